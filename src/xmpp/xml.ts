/** Building and reading stanzas: ltx elements, as xmpp.js makes them (`xml(name, attrs, ...children)`), and JIDs. */
import jid from "@xmpp/jid";
import xml, { type Element } from "@xmpp/xml";

export { xml, jid };
export type { Element };
