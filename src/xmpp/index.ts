/** The public XMPP helpers for scenarios: connect a user, send, wait for stanzas, build stanzas. */
export { connectUser, type ConnectOptions } from "./session.js";
export { fromTemplate, serverFor, userJid } from "./templates.js";
export { XmppUser, type XmppContext } from "./xmpp-user.js";
export { NS_TTD } from "./ttd.js";
export { XmppError, type FailureReason, type LostReason } from "./xmpp-error.js";
export { xml, jid, type Element } from "./xml.js";
export {
  NS,
  bareJid,
  iq,
  is,
  iqKind,
  jidMatches,
  nextIqId,
  type PresenceType,
  type StanzaPredicate,
} from "./stanzas.js";
export { IqError } from "./iq-request.js";
export { meetPeer, neighbourOf } from "./meet.js";
export { joinRoom, MucRoom, NS_MUC, NS_MUC_OWNER, NS_MUC_USER, type JoinOptions, type MucContext } from "./muc.js";
