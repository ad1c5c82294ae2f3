/**
 * Process-wide transport setup that xmpp.js offers no per-connection hook for: certificate checks for direct TLS
 * and STARTTLS (both go through @xmpp/tls's Socket), the `ws` WebSocket polyfill Node 20 needs (with compression
 * off), and a guard for xmpp.js's crash when data arrives after the parser was detached (mass stop).
 * One node runs one run at a time, so the run's settings apply to every connection it opens.
 */
import tls from "node:tls";
import Connection from "@xmpp/connection";
import XmppTlsSocket from "@xmpp/tls/lib/Socket.js";
import { WebSocket as WS, type ClientOptions } from "ws";

const current = { rejectUnauthorized: true, handshakeTimeoutMs: 20_000 };

/** Sets the TLS and WebSocket options of the connections opened from now on. */
export function configureTransports(o: { verifyTls: boolean; handshakeTimeoutMs: number }): void {
  current.rejectUnauthorized = o.verifyTls;
  current.handshakeTimeoutMs = o.handshakeTimeoutMs;
}

let installed = false;

/** Installs the patches once per process. */
export function installTransportPatches(): void {
  if (installed) return;
  installed = true;
  XmppTlsSocket.prototype.connect = function (this: { _attachSocket(s: tls.TLSSocket): void }, o: tls.ConnectionOptions) {
    this._attachSocket(tls.connect({ ...o, rejectUnauthorized: current.rejectUnauthorized, servername: o.servername ?? (typeof o.host === "string" && !/^[\d.:]+$/.test(o.host) ? o.host : undefined) }));
  };
  const proto = Connection.prototype as unknown as { _onData(this: { parser: { write(s: string): void } | null }, d: Buffer): void };
  proto._onData = function (data: Buffer) {
    // known xmpp.js bug: a socket's last data can arrive after stop() detached the parser; it would throw
    this.parser?.write(data.toString("utf8"));
  };
  const g = globalThis as { WebSocket?: unknown };
  if (typeof g.WebSocket === "undefined") {
    g.WebSocket = class AmocWebSocket extends WS {
      constructor(url: string | URL, protocols?: string | string[]) {
        const opts: ClientOptions = { perMessageDeflate: false, handshakeTimeout: current.handshakeTimeoutMs, rejectUnauthorized: current.rejectUnauthorized, skipUTF8Validation: true };
        super(url, protocols, opts);
      }
    };
  }
}
