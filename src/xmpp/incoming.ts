/**
 * What a connection makes of what the server sends unasked: the answer to an IQ get/set (XEP-0199 pings get a
 * result, anything else service-unavailable), and the end of the stream.
 */
import xml, { type Element } from "@xmpp/xml";
import { StreamClosedError, StreamError } from "./xmpp-error.js";

const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
const NS_PING = "urn:xmpp:ping";
/** The namespace of stream elements (and of `<stream:features/>`). */
export const NS_STREAM = "http://etherx.jabber.org/streams";

/** A stanza (counted by stream management), not a nonza. */
export const isStanza = (name: string) => name === "message" || name === "presence" || name === "iq";

/**
 * Why the stream is over if `el` ends it (RFC 6120 4.9.1.1: a stream error), else null. A whole <stream:stream> is
 * a server that opened a new stream only to end it before our restart reached it (Prosody shutting down between
 * SASL success and the restart): its error is what ended the login.
 */
export function streamEndOf(el: Element): Error | null {
  const name = el.name;
  if (!(name === "stream:error" || (name.endsWith(":error") && el.getNS() === NS_STREAM) || name === "stream:stream"))
    return null;
  const error = name === "stream:stream" ? el.getChildElements().find((c) => c.name === "stream:error") : el;
  return error ? StreamError.fromElement(error) : new StreamClosedError("closed", "the server closed the stream");
}

/** The reply to an incoming get/set (as xmpp.js's iq callee answers), or undefined for anything else. */
export function answerTo(iq: Element): Element | undefined {
  const type = iq.attrs.type;
  if (type !== "get" && type !== "set") return undefined;
  const child = iq.getChildElements()[0];
  const reply = xml("iq", { to: iq.attrs.from, id: iq.attrs.id, type: "result" });
  if (!(type === "get" && child?.name === "ping" && child.attrs.xmlns === NS_PING)) {
    reply.attrs.type = "error";
    reply.append(xml("error", { type: "cancel" }, xml("service-unavailable", { xmlns: NS_STANZAS })));
  }
  return reply;
}
