/**
 * BOSH (XEP-0124, XMPP over BOSH XEP-0206) under an XMPP connection, for http:// and https:// entries of
 * `xmpp_servers` (Prosody's /http-bind, ejabberd's /bosh). It looks to the connection like a TCP stream: the
 * stream header the connection writes creates the session (or restarts it after SASL, `xmpp:restart`),
 * `</stream:stream>` terminates it, and each response's `<body/>` content is handed on after a synthesized
 * `<stream:stream>` header, so the parser and the login are those of TCP.
 *
 * Requests: the server holds one empty request (hold=1) while there is nothing to send, so it can push; a write
 * goes out as a second request (at most 2 in flight, the server's `requests`), and the server then answers the held
 * one. RIDs increase by one per request and responses are handed on in RID order. A `type='terminate'` response, an
 * HTTP error status or a failed request ends the transport at once (`onTransportClose`), so whatever waits on the
 * connection is rejected at once, as when a socket drops: the condition becomes a StreamError (lost reason
 * `stream-error:<condition>`), a missing one a StreamClosedError.
 *
 * Per user: this object, at most two requests in flight and their sockets. Every user shares one keep-alive Agent
 * per scheme (its pool holds one socket per held request, plus a few for sends), not an Agent per user: a
 * per-user Agent costs its maps and keeps two sockets per user even when idle. The 2-per-user bound is kept here.
 */
import { attr, copy, createBody, emptyBody, payloadBody, restartBody, terminateBody } from "./bosh-body.js";
import { META, postBody, watchWritten, type BoshRequest, type Meta, type RequestOwner } from "./bosh-http.js";
import type { TransportOptions, TransportSink, XmppTransport } from "./transport.js";
import { StreamClosedError, StreamError } from "./xmpp-error.js";

/** What the parser gets before the content of a session creation or restart response. */
const STREAM_HEADER = "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>";
/** See flush(). */
const SETTLE_MS = 20;

/** One BOSH session: the byte pipe of one connection over http:// or https://. */
export class BoshTransport implements XmppTransport, RequestOwner {
  readonly framed = false;
  readonly stanzaNs = true;
  readonly canUpgrade = false;
  private sid: string | null = null;
  /** The RID of the next request. */
  private rid: number;
  /** The RID whose response is handed on next. */
  private expected: number;
  /** Answers that came before an earlier one, by RID (null when none: the usual case). */
  private parked: Array<{ rid: number; text: string }> | null = null;
  /** The creation request's RID (its response carries the session attributes). */
  private createRid = -1;
  private maxInFlight = 2;
  private reqs: BoshRequest[] = [];
  private out = "";
  private restartPending = false;
  private terminatePending = false;
  private terminateSent = false;
  private flushQueued = false;
  /** The last request is not fully written yet: the next waits (see flush). */
  private writing = false;
  /** When the last request was written (performance.now() ms). */
  private writtenAt = 0;
  private ended = false;

  private constructor(
    private readonly sink: TransportSink,
    private readonly service: URL,
    private readonly o: TransportOptions,
  ) {
    // random start (XEP-0124 7.1), far enough below 2^53 for any session's requests
    this.rid = 1 + Math.floor(Math.random() * 0xfffffff0);
    this.expected = this.rid;
  }

  /** https:// */
  get secure(): boolean {
    return this.service.protocol === "https:";
  }

  /** Nothing to connect before the first request: the session is created by the stream header. */
  static open(service: URL, o: TransportOptions, sink: TransportSink): BoshTransport {
    return new BoshTransport(sink, service, o);
  }

  /** BOSH has no STARTTLS. */
  upgrade(): never {
    throw new Error("STARTTLS needs a plain TCP connection");
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  /** The stream header creates or restarts the session, `</stream:stream>` terminates it, the rest is sent. */
  write(text: string): boolean {
    if (this.ended) return false;
    if (text.startsWith("<?xml") || text.startsWith("<stream:stream")) {
      if (this.createRid < 0) {
        this.createRid = this.rid;
        this.sink.onText(STREAM_HEADER);
        this.request(createBody(this.rid++, this.o.domain));
        return true;
      }
      this.restartPending = true;
      // the new stream starts now: the server may answer the restart in any request still pending (Prosody puts
      // the features in the oldest one), and what comes in RID order from here on belongs to it
      this.sink.onText(STREAM_HEADER);
    } else if (text === "</stream:stream>") this.terminatePending = true;
    else this.out += text;
    this.flushSoon();
    return true;
  }

  /** Terminates the session (if any) without waiting; nothing more is handed on. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.sendTerminate();
  }

  /** Immediate close: requests in flight are dropped, the server is told the session is over. */
  destroy(): void {
    this.ended = true;
    this.sendTerminate();
    const reqs = this.reqs;
    this.reqs = [];
    for (const r of reqs) {
      const m = r[META];
      if (m) m.t = null;
      r.destroy();
    }
  }

  private sendTerminate(): void {
    if (this.sid === null || this.terminateSent) return;
    this.terminateSent = true;
    const body = terminateBody(this.rid++, this.sid);
    this.sid = null;
    // fire and forget: the answer is read and dropped
    const req = this.post(body);
    (req[META] as Meta).t = null;
  }

  private flushSoon(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    // after the microtasks: what the connection writes in answer to a response goes out in one request
    setImmediate(flushTransport, this);
  }

  /** @internal sends what is queued, and keeps one request held by the server. */
  flush(): void {
    this.flushQueued = false;
    const parked = this.parked;
    while (parked && parked[0]?.rid === this.expected && !this.ended) {
      const p = parked.shift() as { rid: number; text: string };
      this.deliver(p.rid, p.text);
    }
    if (parked?.length === 0) this.parked = null;
    const sid = this.sid;
    // one request at a time on the wire: ejabberd queues a request that overtakes the one before it (e.g. a new
    // socket's connect delays a poll, a reused socket carries the next write) until that one is answered, which for
    // a held poll means until the server has something to say or `wait` ends: a sent chat would wait that long
    if (this.ended || sid === null || this.writing) return;
    // ... and a request that would join a held one goes SETTLE_MS after that one was written, so the server has
    // read the first: that narrows the window, ejabberd stays unfixed (a wait then lasts until it answers the first)
    const pending = this.out !== "" || this.restartPending || this.terminatePending;
    const early = pending && this.reqs.length > 0 ? this.writtenAt + SETTLE_MS - performance.now() : 0;
    if (early > 0) {
      if (!this.flushQueued) {
        this.flushQueued = true;
        setTimeout(flushTransport, Math.ceil(early), this);
      }
      return;
    }
    while (this.reqs.length < this.maxInFlight && !this.terminateSent && !this.writing) {
      if (this.out !== "" || (this.terminatePending && !this.restartPending)) {
        const terminate = this.terminatePending && !this.restartPending;
        if (terminate) this.terminateSent = true;
        const rid = this.rid++;
        this.request(terminate ? terminateBody(rid, sid, this.out) : payloadBody(rid, sid, this.out));
        this.out = "";
      } else if (this.restartPending) {
        this.restartPending = false;
        this.request(restartBody(this.rid++, sid, this.o.domain));
      } else break;
    }
    // nothing to send and nothing held: give the server a request to answer when it has something
    if (this.reqs.length === 0 && !this.terminateSent) this.request(emptyBody(this.rid++, sid));
  }

  private request(body: string): void {
    const req = this.post(body);
    (req[META] as Meta).t = this;
    this.reqs.push(req);
    this.writing = true;
    watchWritten(req);
  }

  /** @internal the last request is on the wire (in the kernel's buffer): the next may go. */
  written(): void {
    this.writing = false;
    this.writtenAt = performance.now();
    this.flushSoon();
  }

  private post(body: string, meta?: Meta): BoshRequest {
    return postBody(this.service, this.o.tlsVerify, body, meta);
  }

  /** @internal a request failed; a reset keep-alive socket gets one more try with the same RID. */
  requestFailed(req: BoshRequest, e: Error): void {
    const m = req[META] as Meta;
    this.forget(req);
    const code = (e as { code?: string }).code;
    if (!m.retried && req.reusedSocket && (code === "ECONNRESET" || code === "EPIPE") && !this.ended) {
      m.retried = true;
      m.text = "";
      const again = this.post(m.body, m);
      this.reqs.push(again);
      this.writing = true;
      watchWritten(again);
      return;
    }
    this.fail(e);
  }

  /** @internal a whole HTTP response to request `req`. */
  responded(req: BoshRequest, status: number): void {
    const m = req[META] as Meta;
    this.forget(req);
    if (this.ended) return;
    if (status !== 200)
      return this.fail(new StreamClosedError("closed", `BOSH: ${this.service.href} answered HTTP ${status}`));
    if (m.rid !== this.expected) {
      const parked = (this.parked ??= []);
      parked.push({ rid: m.rid, text: m.text });
      parked.sort((a, b) => a.rid - b.rid);
      return;
    }
    this.deliver(m.rid, m.text);
    // a parked answer waits for the flush: the connection may have to react first (a restart after SASL success)
    this.flushSoon();
  }

  private forget(req: BoshRequest): void {
    const i = this.reqs.indexOf(req);
    if (i >= 0) this.reqs.splice(i, 1);
  }

  /** Hands on the content of the response to `rid` (the next in order) and acts on its `type`. */
  private deliver(rid: number, text: string): void {
    this.expected = rid + 1;
    const start = text.indexOf("<body");
    const tagEnd = start < 0 ? -1 : text.indexOf(">", start);
    if (tagEnd < 0)
      return this.fail(new StreamClosedError("invalid-xml", `BOSH: no <body/> in the answer of ${this.service.href}`));
    const tag = text.slice(start, tagEnd + 1);
    const type = attr(tag, "type");
    if (rid === this.createRid) {
      const sid = attr(tag, "sid");
      if (sid === undefined && type !== "terminate")
        return this.fail(new StreamClosedError("closed", `BOSH: ${this.service.href} created no session`));
      if (sid !== undefined) this.sid = copy(sid);
      const requests = Number(attr(tag, "requests"));
      if (requests === 1) this.maxInFlight = 1;
    }
    if (this.ended) return;
    const close = text.lastIndexOf("</body>");
    if (text.charCodeAt(tagEnd - 1) !== 47 /* / */ && close > tagEnd + 1)
      this.sink.onText(text.slice(tagEnd + 1, close));
    if (type !== "terminate" || this.ended) return;
    // the session is over: answered to our terminate (the stream ends as on TCP), or ended by the server
    this.sid = null;
    if (this.terminateSent) return this.sink.onText("</stream:stream>");
    const condition = attr(tag, "condition");
    this.fail(
      condition
        ? new StreamError(condition, "BOSH session terminated by the server")
        : new StreamClosedError("closed", "the server terminated the BOSH session"),
    );
  }

  /** The transport is gone: the connection learns it at once. */
  private fail(e: Error): void {
    if (this.ended) return;
    this.destroy();
    this.sink.onTransportClose(e);
  }
}

// at module level: a flush allocates no closure
function flushTransport(t: BoshTransport): void {
  t.flush();
}
