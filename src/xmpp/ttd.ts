/**
 * Time to delivery: chat messages carry their send time in an element of their own, and the receiver counts and
 * times them on arrival (xmpp.messages_received, xmpp.message_ttd).
 */
import type { Metrics } from "../metrics/metrics.js";
import { escapeAttr, escapeText } from "./serialize.js";
import type { Element } from "./xml.js";

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

/** Epoch ms with sub-ms precision: the send time chats carry (receivers on other hosts need synced clocks). */
function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
