/**
 * One XMPP client connection, written for load: login (stream, optional STARTTLS, SASL, resource binding,
 * optional stream management with resumption after a dropped socket), sending, IQ requests with timeouts, answers to
 * incoming IQs (XEP-0199 ping), a bounded close, and a lost connection (stream error, close, reset) reported at once
 * to whatever waits. It replaces an xmpp.js client composed of its packages (EventEmitters, koa-compose middleware run
 * per element, ~20 closures and a Map/Set per connection): in bench/xmpp-vs-tsung.sh amoc-ts went from 31 KB and
 * 2.7 ms per user (1.02x and 0.65x tsung) to 15 KB and 1.75 ms with this client, 9.8 KB and 1.6 ms with the rest of
 * bench/README-xmpp.md's changes. An online connection here is one object with a few fields, a transport and a
 * parser; incoming stanzas go to one handler object (no events).
 */
import xml, { type Element } from "@xmpp/xml";
import { TimeoutError } from "../errors.js";
import { authenticate, chooseMechanism, offeredMechanisms } from "./sasl.js";
import { NS_SM, StreamManagement } from "./stream-management.js";
import { escapeAttr, escapeText, serialize } from "./serialize.js";
import { StreamParser, type ParserSink } from "./stream-parser.js";
import { BoshTransport } from "./bosh-transport.js";
import { Transport, type TransportOptions, type TransportSink, type XmppTransport } from "./transport.js";
import { StanzaError, StreamClosedError, StreamError, XmppError } from "./xmpp-error.js";

const NS_STREAM = "http://etherx.jabber.org/streams";
const NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";
const NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls";
const NS_BIND = "urn:ietf:params:xml:ns:xmpp-bind";
const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
const NS_PING = "urn:xmpp:ping";

/** What a connection needs to know. */
export interface ConnectionOptions {
  /** Parsed once per distinct endpoint by the caller and shared. */
  service: URL;
  domain: string;
  username: string;
  password: string;
  resource: string;
  /** PLAIN, SCRAM-SHA-1, SCRAM-SHA-256, or auto (the strongest offered). */
  mechanism: string;
  /** Bounds the whole login (connect, TLS, stream, auth, bind): `start()` then rejects with TimeoutError. */
  timeoutMs: number;
  /** Negotiate STARTTLS on xmpp:// (a server that does not offer it fails the login); no effect on xmpps://, ws(s)://, http(s)://. */
  starttls: boolean;
  streamManagement: boolean;
  tlsVerify: boolean;
  /** Runs after the stream opens and before authentication (XEP-0077 registration). */
  beforeAuth?: (c: XmppConnection) => Promise<void>;
}

/** Receives the stanzas of an online connection, and its loss. */
export interface StanzaHandler {
  onStanza(el: Element): void;
  /**
   * The server or the network ended the online connection (not `close()` or `destroy()`): `cause` is a StreamError,
   * a StreamClosedError or the socket's error (see `lostReason`). Pending IQs were rejected with it just before.
   */
  onConnectionLost?(cause: Error): void;
  /** A dropped socket was replaced and the stream resumed (XEP-0198): nothing was lost. */
  onResumed?(): void;
  /** Resuming after a dropped socket failed with `cause`; `onConnectionLost` follows. */
  onResumeFailed?(cause: Error): void;
}

/**
 * offline -> connecting -> online -> closing -> closed (or offline -> connecting -> closed on failure); a resumable
 * stream (XEP-0198) whose socket drops goes online -> resuming -> online (or -> closed when resumption fails).
 */
export type ConnectionStatus = "offline" | "connecting" | "online" | "resuming" | "closing" | "closed";

interface Deferred<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}
interface PendingIq extends Deferred<Element> {
  timer: NodeJS.Timeout;
}

let iqSeq = 0;
// timer callbacks at module level: a login or a close allocates no closure for them
const destroyConnection = (c: XmppConnection) => c.destroy();
const loginTimedOut = (c: XmppConnection, o: ConnectionOptions) => c.abort(new TimeoutError(`connecting ${o.username} to ${o.service.href}`, o.timeoutMs));
const resumeTimedOut = (c: XmppConnection, o: ConnectionOptions) => c.resumeFailed(new TimeoutError(`resuming ${o.username} on ${o.service.href}`, o.timeoutMs));
const isStanza = (name: string) => name === "message" || name === "presence" || name === "iq";
const starttlsNotOffered = (service: URL) =>
  new XmppError("XMPP_CONNECT_FAILED", "connect", "tls", `STARTTLS was asked for (xmpp_starttls) but ${service.host} does not offer it`, "enable STARTTLS on the server, use xmpps:// (direct TLS), or set AMOC_XMPP_STARTTLS=false");

/** One client connection; `start()` logs in, then stanzas go to `handler`. */
export class XmppConnection implements TransportSink, ParserSink {
  status: ConnectionStatus = "offline";
  /** The full JID once bound. */
  jid = "";
  /** Streams resumed after a dropped socket (XEP-0198). */
  resumptions = 0;
  handler: StanzaHandler | null = null;
  private transport: XmppTransport | null = null;
  private parser: StreamParser | null = null;
  /** Login only: the step waiting for the next element; elements that arrive unasked are queued. */
  private waiting: Deferred<Element> | null = null;
  private early: Element[] | null = null;
  private iqs: Map<string, PendingIq> | null = null;
  private sm: StreamManagement | null = null;
  /** close(): resolved when the transport is gone, or destroyed by closeTimer. */
  private closing: Deferred<void> | null = null;
  private closeTimer: NodeJS.Timeout | undefined;
  private failure: Error | null = null;
  /** The server or the network ended the connection while online (`failure` says how). */
  private lost = false;
  /** Held during login, and while online when the stream is resumable (a resumption logs in again). */
  private o: ConnectionOptions | null;
  /** While resuming: why the socket dropped (the reason reported if resumption fails). */
  private resumeCause: Error | null = null;

  constructor(o: ConnectionOptions) {
    this.o = o;
  }

  /** TLS, WebSocket over wss://, or BOSH over https://. */
  isSecure(): boolean {
    return this.transport?.secure === true;
  }

  /** XEP-0198 was enabled at login. */
  get streamManagementEnabled(): boolean {
    return this.sm !== null;
  }

  /** The server granted XEP-0198 resumption: a dropped socket is replaced and the stream resumed. */
  get resumable(): boolean {
    return this.sm?.resumable === true;
  }

  /** No stream root (WebSocket's RFC 7395 framing, BOSH): top-level stanzas must carry xmlns="jabber:client" themselves. */
  get framed(): boolean {
    return this.transport?.stanzaNs === true;
  }

  /**
   * Connects and logs in within `timeoutMs`; resolves when online. On failure (or `abort`) the connection is closed
   * and the cause rejected: the socket's error, SASLError, StreamError, TimeoutError, or the abort's reason.
   */
  async start(): Promise<void> {
    const o = this.o;
    if (!o || this.status !== "offline") throw new Error("connection already started");
    this.status = "connecting";
    const timer = setTimeout(loginTimedOut, o.timeoutMs, this, o);
    try {
      await this.login(o, false);
      // a resumption logs in again: keep what it needs (not the registration hook and what it holds)
      this.o = this.sm?.resumable ? { ...o, beforeAuth: undefined } : null;
      this.online();
    } catch (e) {
      const cause = this.failure ?? (e as Error);
      this.destroy();
      throw cause;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Connect, TLS, stream, SASL; then bind and enable stream management, or (`resume`) resume the stream. */
  private async login(o: ConnectionOptions, resume: boolean): Promise<void> {
    const topts: TransportOptions = { domain: o.domain, tlsVerify: o.tlsVerify, handshakeTimeoutMs: o.timeoutMs, mayUpgrade: o.starttls };
    // assigned before it connects, so a timeout or an abort can destroy a connect that hangs
    const bosh = o.service.protocol === "http:" || o.service.protocol === "https:";
    this.transport = bosh ? BoshTransport.open(o.service, topts, this) : Transport.open(o.service, topts, this);
    await this.transport.ready();
    this.parser = new StreamParser(this, this.transport.framed);
    let features = await this.openStream(o.domain);
    if (o.starttls && this.transport.canUpgrade) {
      if (!features.getChild("starttls", NS_TLS)) throw starttlsNotOffered(o.service);
      this.sendText(`<starttls xmlns='${NS_TLS}'/>`, false);
      const answer = await this.next();
      if (answer.name !== "proceed") throw new Error(`STARTTLS refused: <${answer.name}/>`);
      this.transport = this.transport.upgrade(topts);
      await this.transport.ready();
      features = await this.openStream(o.domain);
    }
    const offered = offeredMechanisms(features);
    if (o.beforeAuth && !resume) await o.beforeAuth(this);
    await authenticate(this, chooseMechanism(o.mechanism, offered), o.username, o.password);
    features = await this.openStream(o.domain);
    if (resume) return this.resumeStream(features);
    await this.bind(o.resource);
    if (o.streamManagement && features.getChild("sm", NS_SM)) await this.enableStreamManagement();
  }

  /** Now online: what arrived after the last login step (a stanza, an SM `<r/>`) goes where it belongs. */
  private online(): void {
    this.status = "online";
    const early = this.early;
    this.early = null;
    if (early) for (const el of early) this.element(el);
  }

  /**
   * The socket of a resumable stream dropped: log in again and `<resume/>` within the login timeout, then send again
   * what the server did not acknowledge. Meanwhile waits keep waiting and sends are queued. If it fails, the
   * connection is lost with the drop's cause (the handler is told, as without resumption).
   */
  private resumeAfter(cause: Error, o: ConnectionOptions): void {
    this.status = "resuming";
    this.resumeCause = cause;
    this.transport = null;
    this.parser = null;
    const timer = setTimeout(resumeTimedOut, o.timeoutMs, this, o);
    this.login(o, true).then(
      () => {
        clearTimeout(timer);
        if (this.status !== "resuming") return;
        this.resumeCause = null;
        this.resumptions++;
        this.online();
        // what went out again (and what was queued meanwhile) gets acknowledged
        if (this.sm && this.sm.pending > 0) this.sm.requestAck();
        this.handler?.onResumed?.();
      },
      (e: unknown) => {
        clearTimeout(timer);
        this.resumeFailed(e as Error);
      },
    );
  }

  /** @internal resumption failed (or timed out): the connection is lost. */
  resumeFailed(e: Error): void {
    if (this.status !== "resuming") return;
    this.transport?.destroy();
    this.finish(e, false);
  }

  /** `<resume previd h/>` on the new stream; on `<resumed h/>` the unacknowledged stanzas go out again. */
  private async resumeStream(features: Element): Promise<void> {
    const sm = this.sm as StreamManagement;
    if (!features.getChild("sm", NS_SM)) throw new Error("the server no longer offers stream management");
    this.sendText(`<resume xmlns='${NS_SM}' previd='${escapeAttr(sm.resumeId ?? "")}' h='${sm.inbound}'/>`, false);
    const answer = await this.next();
    if (answer.name !== "resumed" || answer.attrs.xmlns !== NS_SM) throw new Error(`resumption refused: <${answer.name}/>`);
    const t = this.transport as XmppTransport;
    for (const text of sm.resumed(Number(answer.attrs.h) || 0)) t.write(text);
  }

  /** Ends a login in progress (or the connection) with `cause` as the reason `start()` rejects with. */
  abort(cause: Error): void {
    this.failure ??= cause;
    this.destroy();
  }

  /** Sends the stream header (or framed `<open/>`) and resolves with the server's `<stream:features/>`. */
  private async openStream(domain: string): Promise<Element> {
    const t = this.transport as XmppTransport;
    this.parser?.reset();
    const ok = t.framed
      ? t.write(`<open xmlns='${NS_FRAMING}' to='${domain}' version='1.0'/>`)
      : t.write(`<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='${NS_STREAM}'>`);
    if (!ok) throw this.closedError();
    const features = await this.next();
    if (features.name !== "stream:features" && !(features.getName() === "features" && features.getNS() === NS_STREAM)) {
      throw new Error(`expected <stream:features/>, got <${features.name}/>`);
    }
    return features;
  }

  /** Resource binding: the answer is awaited like any login step (no IQ tracking, no timer: login is bounded). */
  private async bind(resource: string): Promise<void> {
    const ns = this.framed ? " xmlns='jabber:client'" : "";
    this.sendText(`<iq type='set' id='bind'${ns}><bind xmlns='${NS_BIND}'><resource>${escapeText(resource)}</resource></bind></iq>`, true);
    const res = await this.next();
    if (res.name !== "iq" || res.attrs.id !== "bind") throw new Error(`expected the answer to resource binding, got <${res.name}/>`);
    if (res.attrs.type !== "result") throw StanzaError.fromIq(res);
    // a copy: the parsed text is a slice that would keep the whole received chunk alive as long as the connection
    this.jid = Buffer.from(res.getChild("bind", NS_BIND)?.getChildText("jid") ?? "").toString();
  }

  private async enableStreamManagement(): Promise<void> {
    this.sendText(`<enable xmlns='${NS_SM}' resume='true'/>`, false);
    const answer = await this.next();
    if (answer.name !== "enabled") return;
    const resumable = answer.attrs.resume === "true" || answer.attrs.resume === "1";
    const id = typeof answer.attrs.id === "string" && answer.attrs.id !== "" ? Buffer.from(answer.attrs.id).toString() : null;
    // acks go out only on an online stream (not while resuming: the server expects <resume/> first)
    this.sm = new StreamManagement((s) => void (this.status === "online" && this.transport?.write(s)), resumable ? id : null);
  }

  /** Login: the next top-level element that is not an IQ answer. */
  next(): Promise<Element> {
    const queued = this.early?.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure || this.status === "closed") return Promise.reject(this.failure ?? this.closedError());
    return new Promise<Element>((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /** Writes a stanza or nonza; throws when the connection cannot send. */
  send(el: Element): void {
    // framed (RFC 7395 3.3.3): no stream root to inherit from, so every top-level element names its namespace
    if (this.transport?.stanzaNs) el.attrs.xmlns ??= "jabber:client";
    this.sendText(serialize(el), isStanza(el.name));
  }

  /** Writes serialized XML (one or more top-level elements); `stanza` counts it for stream management. */
  sendText(text: string, stanza: boolean): void {
    // resuming: a stanza waits in the unacknowledged queue, which goes out once resumed
    if (this.status === "resuming" && stanza && this.sm) return this.sm.sent(text);
    if (!this.transport?.write(text)) {
      if (this.status === "online") {
        // the socket ended before its close event: a resumable stream keeps the stanza for when it resumes
        if (stanza && this.sm?.resumable) return this.sm.sent(text);
        this.finish(undefined, false);
      }
      throw (this.lost && this.failure) || this.closedError();
    }
    if (stanza && this.sm) this.sm.sent(text);
  }

  /** Sends an IQ (an id is added if missing) and resolves with the result; rejects with StanzaError or TimeoutError. */
  request(el: Element, timeoutMs = 30_000): Promise<Element> {
    const id = (el.attrs.id as string | undefined) ?? (el.attrs.id = `amoc${++iqSeq}`);
    return new Promise<Element>((resolve, reject) => {
      const iqs = (this.iqs ??= new Map());
      const timer = setTimeout(() => {
        iqs.delete(id);
        if (iqs.size === 0 && this.iqs === iqs) this.iqs = null;
        reject(new TimeoutError(`IQ ${id}`, timeoutMs));
      }, timeoutMs);
      iqs.set(id, { resolve, reject, timer });
      try {
        this.send(el);
      } catch (e) {
        clearTimeout(timer);
        iqs.delete(id);
        reject(e as Error);
      }
    });
  }

  /** Closes the stream, waits (at most `timeoutMs`) for the server to close it, then the socket. */
  close(timeoutMs: number): Promise<void> {
    const t = this.transport;
    if (!t || this.status === "closed") return Promise.resolve();
    if (this.status !== "online" || this.closing) {
      this.destroy();
      return Promise.resolve();
    }
    this.status = "closing";
    this.sm?.stop();
    return new Promise<void>((resolve, reject) => {
      this.closing = { resolve, reject };
      this.closeTimer = setTimeout(destroyConnection, timeoutMs, this);
      if (!t.write(t.framed ? `<close xmlns='${NS_FRAMING}'/>` : "</stream:stream>")) this.destroy();
    });
  }

  /** Drops the connection at once. */
  destroy(): void {
    if (this.status === "closed") return;
    this.transport?.destroy();
    this.finish(undefined, true);
  }

  /** Why the server or the network ended this connection while it was online; null while up or closed by us. */
  get lostCause(): Error | null {
    return this.lost ? this.failure : null;
  }

  // --- TransportSink

  onText(text: string): void {
    try {
      this.parser?.write(text);
    } catch (e) {
      // a handler threw, or an entity could not be decoded: the stream cannot be trusted any more
      this.parseError(e as Error);
    }
  }

  onTransportClose(err: Error | undefined): void {
    // the socket dropped under a resumable stream (a stream error or </stream:stream> ends it before): resume
    if (this.status === "online" && this.sm?.resumable && this.o) {
      this.resumeAfter(err ?? new StreamClosedError("closed", "the server closed the connection"), this.o);
      return;
    }
    this.finish(err, this.status === "closing");
  }

  // --- ParserSink

  streamStart(): void {
    // nothing to keep: the features that follow are what login waits for
  }

  element(el: Element): void {
    const name = el.name;
    if (name === "iq") {
      const type = el.attrs.type as string | undefined;
      if (type === "result" || type === "error") {
        const p = this.iqs?.get(el.attrs.id as string);
        if (p) {
          this.iqs!.delete(el.attrs.id as string);
          // an empty Map still holds its hash table (~170 bytes): most connections send no IQ after binding
          if (this.iqs!.size === 0) this.iqs = null;
          clearTimeout(p.timer);
          if (type === "result") p.resolve(el);
          else p.reject(StanzaError.fromIq(el));
          return;
        }
      } else {
        this.answerIq(el);
        if (this.status !== "online" && this.status !== "closing") return;
      }
    } else if (name === "stream:error" || (name.endsWith(":error") && el.getNS() === NS_STREAM) || name === "stream:stream") {
      // the stream is over (RFC 6120 4.9.1.1): every waiter learns it now, not when the socket closes. A whole
      // <stream:stream> is a server that opened a new stream only to end it before our restart reached it (Prosody
      // shutting down between SASL success and the restart): its error is what ended the login
      const error = name === "stream:stream" ? el.getChildElements().find((c) => c.name === "stream:error") : el;
      this.failure ??= error ? StreamError.fromElement(error) : new StreamClosedError("closed", "the server closed the stream");
      this.transport?.end();
      this.finish(undefined, this.status === "closing");
      return;
    }
    if (this.status === "online" || this.status === "closing") {
      if (this.sm) {
        if (this.sm.onNonza(el)) return;
        if (isStanza(name)) this.sm.inbound++;
      }
      this.handler?.onStanza(el);
    } else if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w.resolve(el);
    } else (this.early ??= []).push(el);
  }

  streamEnd(): void {
    // our close was answered: nothing more will come. TCP: close the socket at once (no half-close and no wait for
    // the peer's FIN, one system call and one read event fewer per user); WebSocket: its closing handshake
    if (this.closing) {
      if (this.transport?.framed) this.transport.end();
      else this.destroy();
    } else {
      this.failure ??= new StreamClosedError("closed", "the server closed the stream");
      this.transport?.end();
      this.finish(undefined, false);
    }
  }

  parseError(e: Error): void {
    this.failure ??= new StreamClosedError("invalid-xml", `the stream could not be read: ${e.message}`, e);
    this.transport?.destroy();
    this.finish(undefined, false);
  }

  /** Incoming get/set: XEP-0199 pings get a result, anything else service-unavailable (as xmpp.js's iq callee). */
  private answerIq(iq: Element): void {
    const type = iq.attrs.type;
    if (type !== "get" && type !== "set") return;
    const child = iq.getChildElements()[0];
    const reply = xml("iq", { to: iq.attrs.from, id: iq.attrs.id, type: "result" });
    if (!(type === "get" && child?.name === "ping" && child.attrs.xmlns === NS_PING)) {
      reply.attrs.type = "error";
      reply.append(xml("error", { type: "cancel" }, xml("service-unavailable", { xmlns: NS_STANZAS })));
    }
    try {
      this.send(reply);
    } catch {
      // closed meanwhile: nobody to answer
    }
  }

  /**
   * The connection is over: settle whatever waits. `byUs`: `close()` or `destroy()` ended it; otherwise an online
   * connection was lost and the handler is told why.
   */
  private finish(err: Error | undefined, byUs: boolean): void {
    if (this.status === "closed") return;
    const wasClosing = this.status === "closing";
    const wasResuming = this.status === "resuming";
    this.lost = !byUs && (this.status === "online" || wasResuming);
    // a failed resumption reports why the socket dropped in the first place
    if (wasResuming && this.lost) {
      this.failure ??= this.resumeCause;
      this.handler?.onResumeFailed?.(err ?? this.failure ?? this.closedError());
    }
    this.resumeCause = null;
    this.o = null;
    this.status = "closed";
    this.sm?.stop();
    // an Error (and its stack) only when someone waits for one: a normal close has nobody to tell
    if (this.lost) this.failure ??= err ?? new StreamClosedError("closed", "the server closed the connection");
    else this.failure ??= err ?? null;
    const w = this.waiting;
    this.waiting = null;
    if (w) w.reject((this.failure ??= this.closedError()));
    if (this.iqs) {
      const cause = (this.failure ??= this.closedError());
      for (const p of this.iqs.values()) {
        clearTimeout(p.timer);
        p.reject(cause);
      }
      this.iqs = null;
    }
    const c = this.closing;
    this.closing = null;
    if (c) {
      clearTimeout(this.closeTimer);
      c.resolve();
    }
    if (!wasClosing) this.transport?.destroy();
    this.transport = null;
    this.parser = null;
    if (this.lost) this.handler?.onConnectionLost?.(this.failure as Error);
  }

  private closedError(): Error {
    return new StreamClosedError("closed", "connection closed");
  }
}
