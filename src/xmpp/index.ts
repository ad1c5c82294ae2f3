/** The public XMPP helpers for scenarios: connect a user, send, wait for stanzas, build stanzas. */
export { connectUser, fromTemplate, serverFor, userJid, XmppUser, NS_TTD, type ConnectOptions, type XmppContext } from "./session.js";
export { XmppError, type FailureReason } from "./xmpp-error.js";
export { xml, jid, type Element } from "./xml.js";
