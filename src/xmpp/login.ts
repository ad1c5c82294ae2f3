/**
 * The login sequence of a connection: transport, stream, STARTTLS, SASL, then resource binding and stream management
 * (XEP-0198), or, after a dropped socket, the resumption of the stream. Each step writes, then awaits the next
 * element (`XmppConnection.next()`); the connection bounds the whole with its login timeout.
 */
import type { Element } from "@xmpp/xml";
import { TimeoutError } from "../errors.js";
import { BoshTransport } from "./bosh-transport.js";
import type { ConnectionOptions } from "./connection-options.js";
import { NS_STREAM } from "./incoming.js";
import type { XmppConnection } from "./connection.js";
import { authenticate, chooseMechanism, offeredMechanisms } from "./sasl.js";
import { escapeAttr, escapeText } from "./serialize.js";
import { NS_SM, StreamManagement } from "./stream-management.js";
import { StreamParser } from "./stream-parser.js";
import { Transport, type TransportOptions, type XmppTransport } from "./transport.js";
import { StanzaError, StreamClosedError, XmppError } from "./xmpp-error.js";

/** RFC 7395 framing (WebSocket): `<open/>` and `<close/>` instead of the stream root. */
export const NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";
const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";
const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";

// at module level: a resumption allocates no closure for its timer
const resumeTimedOut = (c: XmppConnection, o: ConnectionOptions) =>
  c.resumeFailed(new TimeoutError(`resuming ${o.username} on ${o.service.href}`, o.timeoutMs));
const starttlsNotOffered = (service: URL) =>
  new XmppError(
    "XMPP_CONNECT_FAILED",
    "connect",
    "tls",
    `STARTTLS was asked for (xmpp_starttls) but ${service.host} does not offer it`,
    "enable STARTTLS on the server, use xmpps:// (direct TLS), or set AMOC_XMPP_STARTTLS=false",
  );

/** Connect, TLS, stream, SASL; then bind and enable stream management, or (`resume`) resume the stream. */
export async function login(c: XmppConnection, o: ConnectionOptions, resume: boolean): Promise<void> {
  const topts: TransportOptions = {
    domain: o.domain,
    tlsVerify: o.tlsVerify,
    handshakeTimeoutMs: o.timeoutMs,
    mayUpgrade: o.starttls,
  };
  // assigned before it connects, so a timeout or an abort can destroy a connect that hangs
  const bosh = o.service.protocol === "http:" || o.service.protocol === "https:";
  let t = (c.transport = bosh ? BoshTransport.open(o.service, topts, c) : Transport.open(o.service, topts, c));
  await t.ready();
  c.parser = new StreamParser(c, t.framed);
  let features = await openStream(c, o.domain);
  if (o.starttls && t.canUpgrade) {
    if (!features.getChild("starttls", NS_TLS)) throw starttlsNotOffered(o.service);
    c.sendText(`<starttls xmlns='${NS_TLS}'/>`, false);
    const answer = await c.next();
    if (answer.name !== "proceed") throw new Error(`STARTTLS refused: <${answer.name}/>`);
    t = c.transport = t.upgrade(topts);
    await t.ready();
    features = await openStream(c, o.domain);
  }
  const offered = offeredMechanisms(features);
  if (o.beforeAuth && !resume) await o.beforeAuth(c);
  await authenticate(c, chooseMechanism(o.mechanism, offered), o.username, o.password);
  features = await openStream(c, o.domain);
  if (resume) return resumeStream(c, features);
  await bind(c, o.resource);
  if (o.streamManagement && features.getChild("sm", NS_SM)) await enableStreamManagement(c);
}

/**
 * The socket of a resumable stream dropped: log in again and `<resume/>` within the login timeout, then send again
 * what the server did not acknowledge. Meanwhile waits keep waiting and sends are queued. If it fails, the
 * connection is lost with the drop's cause (the handler is told, as without resumption).
 */
export function resumeAfter(c: XmppConnection, cause: Error, o: ConnectionOptions): void {
  c.status = "resuming";
  c.resumeCause = cause;
  c.transport = null;
  c.parser = null;
  const timer = setTimeout(resumeTimedOut, o.timeoutMs, c, o);
  login(c, o, true).then(
    () => {
      clearTimeout(timer);
      if (c.status !== "resuming") return;
      c.resumeCause = null;
      c.resumptions++;
      c.online();
      // what went out again (and what was queued meanwhile) gets acknowledged
      if (c.sm && c.sm.pending > 0) c.sm.requestAck();
      c.handler?.onResumed?.();
    },
    (e: unknown) => {
      clearTimeout(timer);
      c.resumeFailed(e as Error);
    },
  );
}

/** Sends the stream header (or framed `<open/>`) and resolves with the server's `<stream:features/>`. */
async function openStream(c: XmppConnection, domain: string): Promise<Element> {
  const t = c.transport as XmppTransport;
  c.parser?.reset();
  const ok = t.framed
    ? t.write(`<open xmlns='${NS_FRAMING}' to='${domain}' version='1.0'/>`)
    : t.write(
        `<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='${NS_STREAM}'>`,
      );
  if (!ok) throw new StreamClosedError("closed", "connection closed");
  const features = await c.next();
  if (features.name !== "stream:features" && !(features.getName() === "features" && features.getNS() === NS_STREAM)) {
    throw new Error(`expected <stream:features/>, got <${features.name}/>`);
  }
  return features;
}

/** Resource binding: the answer is awaited like any login step (no IQ tracking, no timer: login is bounded). */
async function bind(c: XmppConnection, resource: string): Promise<void> {
  const ns = c.framed ? " xmlns='jabber:client'" : "";
  c.sendText(
    `<iq type='set' id='bind'${ns}><bind xmlns='${NS_BIND}'><resource>${escapeText(resource)}</resource></bind></iq>`,
    true,
  );
  const res = await c.next();
  if (res.name !== "iq" || res.attrs.id !== "bind")
    throw new Error(`expected the answer to resource binding, got <${res.name}/>`);
  if (res.attrs.type !== "result") throw StanzaError.fromIq(res);
  // a copy: the parsed text is a slice that would keep the whole received chunk alive as long as the connection
  c.jid = Buffer.from(res.getChild("bind", NS_BIND)?.getChildText("jid") ?? "").toString();
}

/** Asks for XEP-0198 with resumption; a server that refuses leaves the stream without it. */
async function enableStreamManagement(c: XmppConnection): Promise<void> {
  c.sendText(`<enable xmlns='${NS_SM}' resume='true'/>`, false);
  const answer = await c.next();
  if (answer.name !== "enabled") return;
  const resumable = answer.attrs.resume === "true" || answer.attrs.resume === "1";
  const id =
    typeof answer.attrs.id === "string" && answer.attrs.id !== "" ? Buffer.from(answer.attrs.id).toString() : null;
  // acks go out only on an online stream (not while resuming: the server expects <resume/> first)
  c.sm = new StreamManagement((s) => void (c.status === "online" && c.transport?.write(s)), resumable ? id : null);
}

/** `<resume previd h/>` on the new stream; on `<resumed h/>` the unacknowledged stanzas go out again. */
async function resumeStream(c: XmppConnection, features: Element): Promise<void> {
  const sm = c.sm as StreamManagement;
  if (!features.getChild("sm", NS_SM)) throw new Error("the server no longer offers stream management");
  c.sendText(`<resume xmlns='${NS_SM}' previd='${escapeAttr(sm.resumeId ?? "")}' h='${sm.inbound}'/>`, false);
  const answer = await c.next();
  if (answer.name !== "resumed" || answer.attrs.xmlns !== NS_SM)
    throw new Error(`resumption refused: <${answer.name}/>`);
  const t = c.transport as XmppTransport;
  for (const text of sm.resumed(Number(answer.attrs.h) || 0)) t.write(text);
}
