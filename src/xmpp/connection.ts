/**
 * One XMPP client connection, written for load: login (stream, optional STARTTLS, SASL, resource binding,
 * optional stream management), sending, IQ requests with timeouts, answers to incoming IQs (XEP-0199 ping), and a
 * bounded close. It replaces an xmpp.js client composed of its packages (EventEmitters, koa-compose middleware run
 * per element, ~20 closures and a Map/Set per connection): in bench/xmpp-vs-tsung.sh amoc-ts went from 31 KB and
 * 2.7 ms per user (1.02x and 0.65x tsung) to 15 KB and 1.75 ms with this client, 9.8 KB and 1.6 ms with the rest of
 * bench/README-xmpp.md's changes. An online connection here is one object with a few fields, a transport and a
 * parser; incoming stanzas go to one handler object (no events).
 */
import xml, { type Element } from "@xmpp/xml";
import { TimeoutError } from "../errors.js";
import { authenticate, chooseMechanism, offeredMechanisms } from "./sasl.js";
import { NS_SM, StreamManagement } from "./stream-management.js";
import { escapeText, serialize } from "./serialize.js";
import { StreamParser, type ParserSink } from "./stream-parser.js";
import { Transport, type TransportOptions, type TransportSink } from "./transport.js";
import { StanzaError, StreamError } from "./xmpp-error.js";

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
  /** Negotiate STARTTLS on xmpp:// when the server offers it. */
  starttls: boolean;
  streamManagement: boolean;
  tlsVerify: boolean;
  /** Runs after the stream opens and before authentication (XEP-0077 registration). */
  beforeAuth?: (c: XmppConnection) => Promise<void>;
}

/** Receives the stanzas of an online connection. */
export interface StanzaHandler {
  onStanza(el: Element): void;
}

/** offline -> connecting -> online -> closing -> closed (or offline -> connecting -> closed on failure). */
export type ConnectionStatus = "offline" | "connecting" | "online" | "closing" | "closed";

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
const isStanza = (name: string) => name === "message" || name === "presence" || name === "iq";

/** One client connection; `start()` logs in, then stanzas go to `handler`. */
export class XmppConnection implements TransportSink, ParserSink {
  status: ConnectionStatus = "offline";
  /** The full JID once bound. */
  jid = "";
  handler: StanzaHandler | null = null;
  private transport: Transport | null = null;
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
  /** Held during login only: dropped once online. */
  private o: ConnectionOptions | null;

  constructor(o: ConnectionOptions) {
    this.o = o;
  }

  /** TLS, or WebSocket over wss://. */
  isSecure(): boolean {
    return this.transport?.secure === true;
  }

  /** XEP-0198 was enabled at login. */
  get streamManagementEnabled(): boolean {
    return this.sm !== null;
  }

  /** RFC 7395 framing (WebSocket): top-level stanzas must carry xmlns="jabber:client" themselves. */
  get framed(): boolean {
    return this.transport?.framed === true;
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
      const topts: TransportOptions = { domain: o.domain, tlsVerify: o.tlsVerify, handshakeTimeoutMs: o.timeoutMs, mayUpgrade: o.starttls };
      // assigned before it connects, so a timeout or an abort can destroy a connect that hangs
      this.transport = Transport.open(o.service, topts, this);
      await this.transport.ready();
      this.parser = new StreamParser(this, this.transport.framed);
      let features = await this.openStream(o.domain);
      if (o.starttls && !this.transport.secure && !this.transport.framed && features.getChild("starttls", NS_TLS)) {
        this.sendText(`<starttls xmlns='${NS_TLS}'/>`, false);
        const answer = await this.next();
        if (answer.name !== "proceed") throw new Error(`STARTTLS refused: <${answer.name}/>`);
        this.transport = this.transport.upgrade(topts);
        await this.transport.ready();
        features = await this.openStream(o.domain);
      }
      const offered = offeredMechanisms(features);
      if (o.beforeAuth) await o.beforeAuth(this);
      await authenticate(this, chooseMechanism(o.mechanism, offered), o.username, o.password);
      features = await this.openStream(o.domain);
      await this.bind(o.resource);
      if (o.streamManagement && features.getChild("sm", NS_SM)) await this.enableStreamManagement();
      this.o = null;
      this.status = "online";
      // what arrived after the last login step (a stanza or an SM <r/> right after <enabled/>) goes where it belongs now
      const early = this.early;
      this.early = null;
      if (early) for (const el of early) this.element(el);
    } catch (e) {
      const cause = this.failure ?? (e as Error);
      this.destroy();
      throw cause;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends a login in progress (or the connection) with `cause` as the reason `start()` rejects with. */
  abort(cause: Error): void {
    this.failure ??= cause;
    this.destroy();
  }

  /** Sends the stream header (or framed `<open/>`) and resolves with the server's `<stream:features/>`. */
  private async openStream(domain: string): Promise<Element> {
    const t = this.transport as Transport;
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
    if (answer.name === "enabled") this.sm = new StreamManagement((s) => void this.transport?.write(s));
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
    if (this.transport?.framed) el.attrs.xmlns ??= "jabber:client";
    this.sendText(serialize(el), isStanza(el.name));
  }

  /** Writes serialized XML (one or more top-level elements); `stanza` counts it for stream management. */
  sendText(text: string, stanza: boolean): void {
    if (!this.transport?.write(text)) throw this.closedError();
    if (stanza && this.sm) this.sm.sent();
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
    this.finish(undefined);
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
    this.finish(err);
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
    } else if (name === "stream:error" || (name.endsWith(":error") && el.getNS() === NS_STREAM)) {
      this.failure ??= StreamError.fromElement(el);
      this.transport?.end();
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
      this.failure ??= Object.assign(new Error("the server closed the stream"), { code: "ECONNRESET" });
      this.transport?.end();
    }
  }

  parseError(e: Error): void {
    this.failure ??= e;
    this.transport?.destroy();
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

  /** The transport is gone: settle whatever waits. */
  private finish(err: Error | undefined): void {
    if (this.status === "closed") return;
    const wasClosing = this.status === "closing";
    this.status = "closed";
    this.sm?.stop();
    // an Error (and its stack) only when someone waits for one: a normal close has nobody to tell
    this.failure ??= err ?? null;
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
  }

  private closedError(): Error {
    return Object.assign(new Error("connection closed"), { code: "ECONNRESET" });
  }
}
