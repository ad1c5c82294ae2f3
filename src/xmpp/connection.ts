/**
 * One XMPP client connection, written for load: login (stream, STARTTLS, SASL, binding, stream management with
 * resumption), sending, IQ requests with timeouts, answers to incoming IQs, a bounded close, and a lost connection
 * reported at once to whatever waits. One object with a few fields, a transport and a parser; stanzas go to one
 * handler object, no events: an xmpp.js client (EventEmitters, middleware per element, ~20 closures per connection)
 * cost twice the memory and CPU per user (bench/README-xmpp.md).
 */
import type { Element } from "@xmpp/xml";
import { TimeoutError } from "../errors.js";
import type { ConnectionOptions, ConnectionStatus, StanzaHandler } from "./connection-options.js";
import { isStanza, streamEndOf } from "./incoming.js";
import { rejectIqs, sendIq, takeIq, type PendingIq } from "./pending-iqs.js";
import { NS_FRAMING, login, resumeAfter } from "./login.js";
import type { StreamManagement } from "./stream-management.js";
import { serialize } from "./serialize.js";
import type { StreamParser, ParserSink } from "./stream-parser.js";
import type { TransportSink, XmppTransport } from "./transport.js";
import { StreamClosedError } from "./xmpp-error.js";

interface Deferred<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}
// timer callbacks at module level: a login or a close allocates no closure for them
const destroyConnection = (c: XmppConnection) => c.destroy();
const loginTimedOut = (c: XmppConnection, o: ConnectionOptions) =>
  c.abort(new TimeoutError(`connecting ${o.username} to ${o.service.href}`, o.timeoutMs));

/** One client connection; `start()` logs in, then stanzas go to `handler`. */
export class XmppConnection implements TransportSink, ParserSink {
  status: ConnectionStatus = "offline";
  /** The full JID once bound. */
  jid = "";
  /** Streams resumed after a dropped socket (XEP-0198). */
  resumptions = 0;
  handler: StanzaHandler | null = null;
  /** @internal the byte pipe (set by the login steps). */
  transport: XmppTransport | null = null;
  /** @internal reads what the transport receives (set by the login steps). */
  parser: StreamParser | null = null;
  /** Login only: the step waiting for the next element; elements that arrive unasked are queued. */
  private waiting: Deferred<Element> | null = null;
  private early: Element[] | null = null;
  /** @internal the IQs awaiting an answer (see pending-iqs.ts). */
  iqs: Map<string, PendingIq> | null = null;
  /** @internal XEP-0198 state, once enabled at login. */
  sm: StreamManagement | null = null;
  /** close(): resolved when the transport is gone, or destroyed by closeTimer. */
  private closing: Deferred<void> | null = null;
  private closeTimer: NodeJS.Timeout | undefined;
  private failure: Error | null = null;
  /** The server or the network ended the connection while online (`failure` says how). */
  private lost = false;
  /** Held during login, and while online when the stream is resumable (a resumption logs in again). */
  private o: ConnectionOptions | null;
  /** @internal while resuming: why the socket dropped (the reason reported if resumption fails). */
  resumeCause: Error | null = null;

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
      await login(this, o, false);
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

  /** @internal now online: what arrived after the last login step (a stanza, an SM `<r/>`) goes where it belongs. */
  online(): void {
    this.status = "online";
    const early = this.early;
    this.early = null;
    if (early) for (const el of early) this.element(el);
  }

  /** @internal resumption failed (or timed out): the connection is lost. */
  resumeFailed(e: Error): void {
    if (this.status !== "resuming") return;
    this.transport?.destroy();
    this.finish(e, false);
  }

  /** Ends a login in progress (or the connection) with `cause` as the reason `start()` rejects with. */
  abort(cause: Error): void {
    this.failure ??= cause;
    this.destroy();
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
    return sendIq(this, el, timeoutMs);
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
      resumeAfter(this, err ?? new StreamClosedError("closed", "the server closed the connection"), this.o);
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
    let ended: Error | null;
    if (name === "iq") {
      if (takeIq(this, el)) return;
    } else if ((ended = streamEndOf(el))) {
      // the stream is over: every waiter learns it now, not when the socket closes
      this.failure ??= ended;
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
    if (this.iqs) rejectIqs(this, (this.failure ??= this.closedError()));
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
