/**
 * Time to delivery: chat messages carry their send time in an element of their own, and the receiver counts and
 * times them on arrival (xmpp.messages_received, xmpp.message_ttd).
 */
import type { Metrics } from "../metrics/metrics.js";
import { escapeAttr, escapeText } from "./serialize.js";
import { xml, type Element } from "./xml.js";

/** The namespace of the send-time element chat messages carry, so the receiver measures time to delivery. */
export const NS_TTD = "urn:amoc-ts:ttd";

/**
 * `<message>` with its body and the send-time element, written as text: what `xml(...)` and serializing would
 * produce, without the three elements per chat (the hot path of every chat scenario). `framed`: name the namespace.
 */
export function messageText(to: string, type: string, body: string, from: string, framed: boolean): string {
  const ns = framed ? ' xmlns="jabber:client"' : "";
  return `<message to="${escapeAttr(to)}" type="${type}"${ns}><body>${escapeText(body)}</body><ttd xmlns="${NS_TTD}" sent="${epochMs().toFixed(3)}" from="${escapeAttr(from)}"/></message>`;
}

/** Counts a received message, and times it when it carries a send time and is not the echo of `ownJid`'s groupchat. */
export function countMessage(el: Element, ownJid: string, m: Metrics): void {
  const ttd = el.getChild("ttd", NS_TTD);
  const type = el.attrs.type as string | undefined;
  if (type === "error") m.count("xmpp.message_errors");
  else if (ttd) {
    const own = type === "groupchat" && ttd.attrs.from === ownJid;
    if (own) m.count("xmpp.groupchat_echoes");
    else {
      m.count("xmpp.messages_received");
      const sent = Number(ttd.attrs.sent);
      if (Number.isFinite(sent)) m.timing("xmpp.message_ttd", Math.max(0, epochMs() - sent));
    }
  }
}

/** A chat or groupchat message with a body: what xmpp.messages_sent counts, however it was sent. */
export function isChatMessage(el: Element): boolean {
  const type = el.attrs.type as string | undefined;
  return el.name === "message" && (type === "chat" || type === "groupchat") && el.getChild("body") !== undefined;
}

/**
 * A chat or groupchat message as sent with `user.send(xml(...))`, with the send-time element added (a copy: the
 * caller's element stays as built) unless it has one, so receivers count and time it like `sendChat`'s and the
 * sender's own groupchat echo is told apart from the others' messages.
 */
export function withSendTime(el: Element, from: string): Element {
  if (el.getChild("ttd", NS_TTD)) return el;
  return xml("message", { ...el.attrs }, ...el.children, xml("ttd", { xmlns: NS_TTD, sent: sendTime(), from }));
}

/** The send time a message carries (epoch ms, 3 decimals). */
export function sendTime(): string {
  return epochMs().toFixed(3);
}

/** Epoch ms with sub-ms precision: the send time chats carry (receivers on other hosts need synced clocks). */
function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
