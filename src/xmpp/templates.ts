/** User names, JIDs and endpoints of a run: templates with `<id>`, and servers dealt to users by ID. */
import type { NodeSettings } from "../config/schema.js";
import { XmppError } from "./xmpp-error.js";

/** `user_<id>` etc.: `<id>` in a template replaced by the user ID. */
export function fromTemplate(template: string, id: number): string {
  return template.replaceAll("<id>", String(id));
}

/** The bare JID of user `id` under the run's templates. */
export function userJid(id: number, settings: Readonly<NodeSettings>): string {
  return `${fromTemplate(settings.xmpp_user_template, id)}@${settings.xmpp_domain}`;
}

/** The endpoint user `id` connects to: servers are dealt by ID, round-robin. */
export function serverFor(id: number, servers: readonly string[]): string {
  if (servers.length === 0)
    throw new XmppError(
      "XMPP_CONNECT_FAILED",
      "connect",
      "other",
      "xmpp_servers is empty",
      "set AMOC_XMPP_SERVERS, e.g. xmpp://127.0.0.1:5222",
    );
  return servers[(id - 1) % servers.length] as string;
}
