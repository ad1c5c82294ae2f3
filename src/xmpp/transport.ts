/**
 * The byte pipes under an XMPP connection: TCP (xmpp://), direct TLS (xmpps://), STARTTLS upgrade, WebSocket
 * (ws://, wss://, RFC 7395); BOSH (http://, https://) is bosh-transport.ts. Built for many idle connections in one
 * process:
 * - plain TCP reads into one shared buffer (net's `onread`), decoded to a string at once, instead of a fresh
 *   Buffer per read; the event handlers are module-level functions that find their transport through a symbol
 *   on the socket, so a connection adds no closures (xmpp.js binds five per connection);
 * - TLS and WebSocket use their streams' events (TLS costs ~60 KB per connection anyway).
 */
import net from "node:net";
import tls from "node:tls";
import { WebSocket } from "ws";

/** Where a transport delivers text and its end. */
export interface TransportSink {
  /** Decoded text: a chunk of the stream (TCP/TLS) or one whole frame (WebSocket). */
  onText(text: string): void;
  /** The transport closed; `err` says why when it failed. */
  onTransportClose(err: Error | undefined): void;
}

/** Per-connection transport settings. */
export interface TransportOptions {
  /** The XMPP domain: the TLS server name after STARTTLS. */
  domain: string;
  tlsVerify: boolean;
  /** Bounds the WebSocket opening handshake (TCP and TLS are bounded by the caller's connect timeout). */
  handshakeTimeoutMs: number;
  /** The caller will upgrade with STARTTLS: keep the socket in plain stream mode (no shared read buffer). */
  mayUpgrade: boolean;
}

/** What a connection drives: this file's Transport, or BoshTransport (bosh-transport.ts) for http(s)://. */
export interface XmppTransport {
  /** TLS, WebSocket over wss://, or BOSH over https://. */
  readonly secure: boolean;
  /** RFC 7395 framing (WebSocket): `<open/>`/`<close/>` and one element per message. */
  readonly framed: boolean;
  /** Top-level stanzas must name xmlns='jabber:client' themselves (no stream root: WebSocket, BOSH). */
  readonly stanzaNs: boolean;
  /** A plain TCP stream that STARTTLS can upgrade. */
  readonly canUpgrade: boolean;
  ready(): Promise<void>;
  write(text: string): boolean;
  end(): void;
  destroy(): void;
  upgrade(o: TransportOptions): XmppTransport;
}

const OWNER = Symbol("amoc.xmpp.transport");
/** Shared by every plain TCP socket: a read is decoded before the next one can land in it. */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

type Owned<T> = T & { [OWNER]?: Transport };

/** One connection's byte pipe; `framed` for WebSocket (one element per message). */
export class Transport implements XmppTransport {
  /** Bytes of a UTF-8 character split across two reads. */
  private partial: Buffer | null = null;
  private error: Error | undefined;
  private connecting: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private ended = false;

  private constructor(
    private sink: TransportSink,
    private socket: Owned<net.Socket> | null,
    private ws: Owned<WebSocket> | null,
    /** TLS, or WebSocket over wss:// (what `isSecure` reports). */
    readonly secure: boolean,
  ) {}

  get framed(): boolean {
    return this.ws !== null;
  }

  get stanzaNs(): boolean {
    return this.ws !== null;
  }

  get canUpgrade(): boolean {
    return this.ws === null && !this.secure;
  }

  /** Starts opening `service`; `ready()` resolves when it can carry a stream, `destroy()` gives up at once. */
  static open(service: URL, o: TransportOptions, sink: TransportSink): Transport {
    const host = service.hostname.replace(/^\[|\]$/g, "");
    const proto = service.protocol;
    if (proto === "ws:" || proto === "wss:") {
      const ws = new WebSocket(service.href, ["xmpp"], {
        perMessageDeflate: false,
        handshakeTimeout: o.handshakeTimeoutMs,
        rejectUnauthorized: o.tlsVerify,
        skipUTF8Validation: true,
      }) as Owned<WebSocket>;
      const t = new Transport(sink, null, ws, proto === "wss:");
      ws[OWNER] = t;
      ws.on("message", onWsMessage);
      ws.on("error", onError);
      ws.on("close", onClose);
      ws.once("open", onConnect);
      return t;
    }
    let socket: Owned<net.Socket>;
    if (proto === "xmpps:") {
      socket = tls.connect({
        host,
        port: Number(service.port || 5223),
        servername: net.isIP(host) ? undefined : host,
        rejectUnauthorized: o.tlsVerify,
      });
      socket.once("secureConnect", onConnect);
      socket.on("data", onData);
    } else if (o.mayUpgrade) {
      socket = net.connect({ host, port: Number(service.port || 5222) });
      socket.once("connect", onConnect);
      socket.on("data", onData);
    } else {
      socket = net.connect({
        host,
        port: Number(service.port || 5222),
        onread: { buffer: READ_BUFFER, callback: onRead },
      });
      socket.once("connect", onConnect);
    }
    const t = new Transport(sink, socket, null, proto === "xmpps:");
    socket[OWNER] = t;
    socket.on("error", onError);
    socket.on("close", onClose);
    return t;
  }

  /** STARTTLS: wraps the plain socket in TLS (server name = the XMPP domain); this transport is done with. */
  upgrade(o: TransportOptions): Transport {
    const plain = this.socket;
    if (!plain || this.secure) throw new Error("STARTTLS needs a plain TCP connection");
    plain.removeListener("data", onData);
    plain.removeListener("close", onClose);
    plain.removeListener("error", onError);
    plain[OWNER] = undefined;
    const socket = tls.connect({
      socket: plain,
      servername: net.isIP(o.domain) ? undefined : o.domain,
      host: o.domain,
      rejectUnauthorized: o.tlsVerify,
    }) as Owned<tls.TLSSocket>;
    const t = new Transport(this.sink, socket, null, true);
    this.socket = null;
    socket[OWNER] = t;
    socket.once("secureConnect", onConnect);
    socket.on("data", onData);
    socket.on("error", onError);
    socket.on("close", onClose);
    return t;
  }

  /** Resolves once connected (TLS: handshake done; WebSocket: open); rejects with the socket's error. */
  ready(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.connecting = { resolve, reject };
    });
  }

  /** Queues `text`; false when the transport can no longer write. */
  write(text: string): boolean {
    if (this.ended) return false;
    if (this.ws) {
      if (this.ws.readyState !== WebSocket.OPEN) return false;
      this.ws.send(text);
      return true;
    }
    const s = this.socket;
    if (!s || s.destroyed || !s.writable) return false;
    s.write(text);
    return true;
  }

  /** Graceful close: no more writes; the peer's close completes it. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.ws) this.ws.close(1000);
    else this.socket?.end();
  }

  /** Immediate close. */
  destroy(): void {
    this.ended = true;
    if (this.ws) this.ws.terminate();
    else this.socket?.destroy();
  }

  /** @internal the socket connected (TLS: handshake done; WebSocket: open). */
  connected(): void {
    const c = this.connecting;
    this.connecting = null;
    c?.resolve();
  }

  /** @internal */
  failed(e: Error): void {
    this.error ??= e;
    const c = this.connecting;
    this.connecting = null;
    c?.reject(e);
  }

  /** @internal */
  closed(): void {
    this.ended = true;
    const c = this.connecting;
    this.connecting = null;
    if (c)
      c.reject(
        this.error ?? Object.assign(new Error("connection closed before it was established"), { code: "ECONNRESET" }),
      );
    else this.sink.onTransportClose(this.error);
  }

  /** @internal `n` bytes of `buf` arrived; only whole UTF-8 characters are decoded. */
  bytes(buf: Buffer, n: number): void {
    let data = buf;
    let len = n;
    if (this.partial) {
      data = Buffer.concat([this.partial, buf.subarray(0, n)]);
      len = data.length;
      this.partial = null;
    }
    const whole = wholeUtf8(data, len);
    if (whole < len) this.partial = Buffer.from(data.subarray(whole, len));
    if (whole > 0) this.sink.onText(data.toString("utf8", 0, whole));
  }

  /** @internal one WebSocket message (RFC 7395: exactly one element). */
  message(data: WebSocket.RawData): void {
    this.sink.onText(
      Array.isArray(data)
        ? Buffer.concat(data).toString("utf8")
        : Buffer.isBuffer(data)
          ? data.toString("utf8")
          : Buffer.from(data).toString("utf8"),
    );
  }
}

/** Length of the prefix of `buf[0, n)` that ends on a UTF-8 character boundary. */
function wholeUtf8(buf: Buffer, n: number): number {
  let i = n - 1;
  let cont = 0;
  while (i >= 0 && cont < 3 && ((buf[i] as number) & 0xc0) === 0x80) {
    i--;
    cont++;
  }
  if (i < 0) return n;
  const lead = buf[i] as number;
  const size = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return n - i < size ? i : n;
}

// Module-level handlers: `this` is the socket (or WebSocket), which points at its transport.
function onRead(this: Owned<net.Socket>, n: number): boolean {
  this[OWNER]?.bytes(READ_BUFFER, n);
  return true;
}
function onData(this: Owned<net.Socket>, chunk: Buffer): void {
  this[OWNER]?.bytes(chunk, chunk.length);
}
function onConnect(this: Owned<net.Socket | WebSocket>): void {
  this[OWNER]?.connected();
}
function onError(this: Owned<net.Socket | WebSocket>, e: Error): void {
  this[OWNER]?.failed(e);
}
function onClose(this: Owned<net.Socket | WebSocket>): void {
  this[OWNER]?.closed();
}
function onWsMessage(this: Owned<WebSocket>, data: WebSocket.RawData): void {
  this[OWNER]?.message(data);
}
