/** An online user's XMPP session: send, wait for stanzas, time chats on arrival, close (also on forced removal). */
import type { NodeSettings } from "../config/schema.js";
import { TimeoutError, UserAbortedError, errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type { StanzaHandler } from "./connection-options.js";
import type { XmppConnection } from "./connection.js";
import {
  removedWithForce,
  unwatchForcedRemoval,
  watchForcedRemoval,
  type ForcedRemovalTarget,
  type StoppableContext,
} from "./forced-removal.js";
import { requestIq } from "./iq-request.js";
import { userJid } from "./templates.js";
import { countMessage, isChatMessage, messageText, withSendTime } from "./ttd.js";
import { xml, type Element } from "./xml.js";
import { checkElement, closedWhileWaiting, notConnected, sendFailed, stanzaTimeout } from "./user-errors.js";
import { XmppError, connectionLost } from "./xmpp-error.js";

/** Stanzas nobody waited for are kept (for a later `waitFor`) up to this many per user; older ones are dropped. */
const INBOX_LIMIT = 1000;
const CLOSE_TIMEOUT_MS = 5000;
/**
 * A forced removal takes the user offline at once: the server's closing tag is waited for only this long (a busy
 * server may take seconds to answer `</stream:stream>` while it delivers a backlog), then the socket is destroyed.
 */
const FORCED_CLOSE_TIMEOUT_MS = 500;

/** What the XMPP helpers need from a user's context (a scenario's `UserContext` has it all). */
export interface XmppContext extends StoppableContext {
  readonly id: number;
  readonly settings: Readonly<NodeSettings>;
  readonly metrics: Metrics;
  readonly log: Logger;
  phase: string;
}

interface Waiter {
  pred: (el: Element) => boolean;
  resolve: (el: Element) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * An online XMPP session of one user. Lean on purpose (it exists once per virtual user): the waiter list and the
 * inbox are created on first use, and the user itself is what a forced removal ends and the connection's
 * stanza handler, so it allocates no closures.
 */
export class XmppUser implements StanzaHandler, ForcedRemovalTarget {
  private waiters: Waiter[] | null = null;
  private inbox: Element[] | null = null;
  private discarded: ((el: Element) => boolean) | null = null;
  private closed = false;

  constructor(
    private readonly conn: XmppConnection,
    private readonly ctx: XmppContext,
    /** The bare JID. */
    readonly jid: string,
  ) {
    conn.handler = this;
    watchForcedRemoval(ctx, this);
  }

  /** Logged in, not closed, and the connection still up. */
  get online(): boolean {
    return !this.closed && this.conn.status === "online";
  }

  /**
   * @internal the user was removed with force: a login in progress ends at once (connectUser rejects with
   * UserAbortedError); an online session closes.
   */
  onForcedRemoval(): void {
    if (this.conn.status === "connecting") this.conn.abort(new UserAbortedError(this.ctx.id));
    else void this.close(FORCED_CLOSE_TIMEOUT_MS);
  }

  /** @internal a login attempt failed: this user object is dropped. */
  detach(): void {
    this.closed = true;
    unwatchForcedRemoval(this.ctx, this);
  }

  /**
   * Stanzas matching `pred` that no `waitFor` is waiting for are dropped instead of kept for a later `waitFor` or
   * `poll`; they are still counted and chats still timed (xmpp.messages_received, xmpp.message_ttd). For scenarios
   * that do not read what they receive: keeping it costs memory per user. `undefined` keeps everything again.
   */
  discard(pred: ((el: Element) => boolean) | undefined): void {
    this.discarded = pred ?? null;
  }

  /** @internal every stanza of the connection. */
  onStanza(el: Element): void {
    const m = this.ctx.metrics;
    if (el.name === "message") countMessage(el, this.jid, m);
    const ws = this.waiters;
    if (ws) {
      for (let i = 0; i < ws.length; i++) {
        const w = ws[i] as Waiter;
        if (!w.pred(el)) continue;
        ws.splice(i, 1);
        clearTimeout(w.timer);
        w.resolve(el);
        return;
      }
    }
    if (this.discarded?.(el)) return;
    m.count("xmpp.stanzas_buffered");
    const inbox = (this.inbox ??= []);
    if (inbox.push(el) > INBOX_LIMIT) {
      inbox.shift();
      m.count("xmpp.stanzas_dropped");
    }
  }

  /**
   * @internal the server or the network ended the connection: every pending wait rejects now with why
   * (`stream-error:<condition>`, `closed`, `reset`), and so does every later send or wait.
   */
  onConnectionLost(cause: Error): void {
    this.ctx.metrics.count("xmpp.connections_lost");
    const ws = this.waiters;
    this.waiters = null;
    if (ws) {
      for (const w of ws) {
        clearTimeout(w.timer);
        w.reject(connectionLost("wait", cause));
      }
    }
  }

  /** @internal the socket dropped and the stream was resumed (XEP-0198): waits went on, queued sends went out. */
  onResumed(): void {
    this.ctx.metrics.count("xmpp.resumptions");
  }

  /** @internal resuming after a dropped socket failed; `onConnectionLost` follows. */
  onResumeFailed(cause: Error): void {
    this.ctx.metrics.count("xmpp.resumption_failures");
    this.ctx.log.debug({ msg: "xmpp_resume_failed", user: this.ctx.id, err: errorMessage(cause) });
  }

  /**
   * Sends a stanza built with `xml(...)`; a string or anything else rejects with an XmppError saying so. A chat or
   * groupchat message is counted (xmpp.messages_sent) and carries its send time, as `sendChat`'s does.
   */
  async send(el: Element): Promise<void> {
    checkElement(el, "send");
    this.checkOpen();
    const chat = isChatMessage(el);
    try {
      this.conn.send(chat ? withSendTime(el, this.jid) : el);
    } catch (e) {
      throw this.sendError(e);
    }
    if (chat) this.ctx.metrics.count("xmpp.messages_sent");
  }

  /** Sends one serialized stanza; rejects like `send` (never throws: callers may chain `.catch`). */
  private sendText(text: string): Promise<void> {
    try {
      this.checkOpen();
      this.conn.sendText(text, true);
    } catch (e) {
      return Promise.reject(e instanceof XmppError ? e : this.sendError(e));
    }
    return Promise.resolve();
  }

  private checkOpen(): void {
    if (this.closed) throw notConnected(this.jid);
    const lost = this.conn.lostCause;
    if (lost) throw connectionLost("send", lost);
  }

  private sendError(e: unknown): XmppError {
    const lost = this.conn.lostCause;
    return lost ? connectionLost("send", lost) : sendFailed(e);
  }

  /** Sends a chat message carrying its send time; `to` is a JID or a user ID. */
  async sendChat(to: string | number, body = "hello"): Promise<void> {
    const dest = typeof to === "number" ? userJid(to, this.ctx.settings) : to;
    await this.sendText(messageText(dest, "chat", body, this.jid, this.conn.framed));
    this.ctx.metrics.count("xmpp.messages_sent");
  }

  /** Sends a groupchat message to a room, carrying its send time. */
  async sendGroupchat(room: string, body = "hello"): Promise<void> {
    await this.sendText(messageText(room, "groupchat", body, this.jid, this.conn.framed));
    this.ctx.metrics.count("xmpp.messages_sent");
  }

  /** Sends presence (available by default; `to` for directed presence, `type` e.g. "unavailable"). */
  sendPresence(attrs: Record<string, string> = {}, ...children: Element[]): Promise<void> {
    // the plain <presence/> every session starts with needs no element
    if (children.length === 0 && Object.keys(attrs).length === 0) {
      return this.sendText(this.conn.framed ? '<presence xmlns="jabber:client"/>' : "<presence/>");
    }
    return this.send(xml("presence", attrs, ...children));
  }

  /** Takes the first already received stanza matching `pred`, without waiting. */
  poll(pred: (el: Element) => boolean): Element | undefined {
    const inbox = this.inbox;
    if (!inbox) return undefined;
    const i = inbox.findIndex(pred);
    return i >= 0 ? inbox.splice(i, 1)[0] : undefined;
  }

  /** Resolves with the first stanza (already received or arriving) matching `pred`; rejects on timeout or removal. */
  waitFor(pred: (el: Element) => boolean, timeoutMs: number, what = "stanza"): Promise<Element> {
    const buffered = this.poll(pred);
    if (buffered) return Promise.resolve(buffered);
    if (this.closed) return Promise.reject(closedWhileWaiting(this.jid, what));
    const lost = this.conn.lostCause;
    if (lost) return Promise.reject(connectionLost("wait", lost));
    if (removedWithForce(this.ctx)) return Promise.reject(new UserAbortedError(this.ctx.id));
    return new Promise<Element>((resolve, reject) => {
      const waiters = (this.waiters ??= []);
      const w: Waiter = {
        pred,
        resolve,
        reject,
        timer: setTimeout(() => {
          const k = waiters.indexOf(w);
          if (k >= 0) waiters.splice(k, 1);
          this.ctx.metrics.count("xmpp.timeouts");
          reject(stanzaTimeout(this.jid, "wait", what, timeoutMs));
        }, timeoutMs),
      };
      waiters.push(w);
    });
  }

  /** Waits for a chat message (from `from`, a JID or user ID, when given). */
  waitForChat(timeoutMs: number, from?: string | number): Promise<Element> {
    const bare = from === undefined ? undefined : typeof from === "number" ? userJid(from, this.ctx.settings) : from;
    return this.waitFor(
      (el) =>
        el.name === "message" && el.attrs.type === "chat" && (!bare || String(el.attrs.from).split("/")[0] === bare),
      timeoutMs,
      bare ? `chat from ${bare}` : "chat message",
    );
  }

  /** Sends an IQ and resolves with the result (rejects with the stanza error or on timeout). */
  async iq(el: Element, timeoutMs = 10_000): Promise<Element> {
    checkElement(el, "iq");
    try {
      return await this.conn.request(el, timeoutMs);
    } catch (e) {
      const lost = this.conn.lostCause;
      if (lost) throw connectionLost("iq", lost);
      if (e instanceof TimeoutError) {
        this.ctx.metrics.count("xmpp.timeouts");
        throw stanzaTimeout(this.jid, "iq", "IQ reply", timeoutMs);
      }
      throw e;
    }
  }

  /**
   * Sends an IQ (build it with `iq.get`/`iq.set`) and resolves with the result; rejects with IqError (`condition`)
   * on an error reply, XmppError on timeout. Timed per IQ kind as `xmpp.iq.<kind>` (e.g. xmpp.iq.ping).
   */
  request(el: Element, timeoutMs = 10_000, kind?: string): Promise<Element> {
    return requestIq(this, this.ctx.metrics, el, timeoutMs, kind);
  }

  /** Closes the stream and socket (bounded); pending waits reject. Safe to call twice. */
  async close(timeoutMs = CLOSE_TIMEOUT_MS): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    unwatchForcedRemoval(this.ctx, this);
    const ws = this.waiters;
    this.waiters = null;
    if (ws) {
      for (const w of ws) {
        clearTimeout(w.timer);
        w.reject(
          removedWithForce(this.ctx) ? new UserAbortedError(this.ctx.id) : closedWhileWaiting(this.jid, "stanza"),
        );
      }
    }
    await this.conn.close(timeoutMs);
    this.ctx.metrics.count("xmpp.disconnections");
  }
}
