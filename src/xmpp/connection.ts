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
import { closedError, endConnection } from "./connection-end.js";
import { onElement, onParseError, onStreamEnd, onTransportClosed } from "./connection-input.js";
import { isStanza } from "./incoming.js";
import { LoginQueue } from "./login-queue.js";
import { sendIq, type PendingIq } from "./pending-iqs.js";
import { NS_FRAMING, login } from "./login.js";
import type { StreamManagement } from "./stream-management.js";
import { serialize } from "./serialize.js";
import type { StreamParser, ParserSink } from "./stream-parser.js";
import type { TransportSink, XmppTransport } from "./transport.js";

// timer callbacks at module level: a login or a close allocates no closure for them
const destroyConnection = (c: XmppConnection) => c.destroy();
const loginTimedOut = (c: XmppConnection, o: ConnectionOptions) =>
  c.abort(new TimeoutError(`connecting ${o.username} to ${o.service.href}`, o.timeoutMs));

/**
 * One client connection; `start()` logs in, then stanzas go to `handler`. What it receives is dispatched by
 * connection-input.ts and its end settled by connection-end.ts; the fields they share are marked internal.
 */
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
  /** @internal login only: the elements the login steps await (see login-queue.ts). */
  login: LoginQueue | null = null;
  /** @internal the IQs awaiting an answer (see pending-iqs.ts). */
  iqs: Map<string, PendingIq> | null = null;
  /** @internal XEP-0198 state, once enabled at login. */
  sm: StreamManagement | null = null;
  /** @internal close(): resolved when the transport is gone, or destroyed by its timer. */
  closing: { resolve: () => void; timer: NodeJS.Timeout } | null = null;
  /** @internal why the connection ended (or is ending). */
  failure: Error | null = null;
  /** @internal the server or the network ended the connection while online (`failure` says how). */
  lost = false;
  /** @internal held during login, and while online when the stream is resumable (a resumption logs in again). */
  o: ConnectionOptions | null;
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
    const early = this.login?.take();
    this.login = null;
    if (early) for (const el of early) this.element(el);
  }

  /** @internal resumption failed (or timed out): the connection is lost. */
  resumeFailed(e: Error): void {
    if (this.status !== "resuming") return;
    this.transport?.destroy();
    endConnection(this, e, false);
  }

  /** Ends a login in progress (or the connection) with `cause` as the reason `start()` rejects with. */
  abort(cause: Error): void {
    this.failure ??= cause;
    this.destroy();
  }

  /** Login: the next top-level element that is not an IQ answer. */
  next(): Promise<Element> {
    if (this.failure || this.status === "closed") return Promise.reject(this.failure ?? closedError());
    return (this.login ??= new LoginQueue()).next();
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
        endConnection(this, undefined, false);
      }
      throw (this.lost && this.failure) || closedError();
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
    return new Promise<void>((resolve) => {
      this.closing = { resolve, timer: setTimeout(destroyConnection, timeoutMs, this) };
      if (!t.write(t.framed ? `<close xmlns='${NS_FRAMING}'/>` : "</stream:stream>")) this.destroy();
    });
  }

  /** Drops the connection at once. */
  destroy(): void {
    if (this.status === "closed") return;
    this.transport?.destroy();
    endConnection(this, undefined, true);
  }

  /** Why the server or the network ended this connection while it was online; null while up or closed by us. */
  get lostCause(): Error | null {
    return this.lost ? this.failure : null;
  }

  // --- TransportSink and ParserSink: connection-input.ts

  onText(text: string): void {
    try {
      this.parser?.write(text);
    } catch (e) {
      // a handler threw, or an entity could not be decoded: the stream cannot be trusted any more
      onParseError(this, e as Error);
    }
  }

  onTransportClose(err: Error | undefined): void {
    onTransportClosed(this, err);
  }

  streamStart(): void {
    // nothing to keep: the features that follow are what login waits for
  }

  element(el: Element): void {
    onElement(this, el);
  }

  streamEnd(): void {
    onStreamEnd(this);
  }

  parseError(e: Error): void {
    onParseError(this, e);
  }
}
