/** One user's XMPP session: connect with retries and timeouts, send, wait for stanzas, TTD, clean close on abort. */
import type { NodeSettings } from "../config/schema.js";
import { TimeoutError, UserAbortedError, errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import { createClient, xml, type Element, type RawClient } from "./client-factory.js";
import { configureTransports, installTransportPatches } from "./transport-options.js";
import { XmppError, classifyFailure, hintFor } from "./xmpp-error.js";

/** The namespace of the send-time element chat messages carry, so the receiver measures time to delivery. */
export const NS_TTD = "urn:amoc-ts:ttd";
const NS_REGISTER = "jabber:iq:register";
/** Stanzas nobody waited for are kept (for a later `waitFor`) up to this many per user; older ones are dropped. */
const INBOX_LIMIT = 1000;
const CLOSE_TIMEOUT_MS = 5000;

/** What the XMPP helpers need from a user's context (a scenario's `UserContext` has it all). */
export interface XmppContext {
  readonly id: number;
  readonly settings: Readonly<NodeSettings>;
  readonly metrics: Metrics;
  readonly signal: AbortSignal;
  readonly log: Logger;
  phase: string;
}

/** Per-connection choices; defaults come from the run's settings. */
export interface ConnectOptions {
  /** An endpoint (xmpp://, xmpps://, ws://, wss://); default: `xmpp_servers` picked by user ID. */
  server?: string;
  username?: string;
  password?: string;
  resource?: string;
  /** Register the account with XEP-0077 before logging in (an existing account is fine). */
  register?: boolean;
  /** Negotiate STARTTLS on xmpp:// when the server offers it. */
  starttls?: boolean;
  timeoutMs?: number;
}

/** `user_<id>` etc.: `<id>` in a template replaced by the user ID. */
export function fromTemplate(template: string, id: number): string {
  return template.replaceAll("<id>", String(id));
}

/** The bare JID of user `id` under the run's templates. */
export function userJid(id: number, settings: Readonly<NodeSettings>): string {
  return `${fromTemplate(settings.xmpp_user_template, id)}@${settings.xmpp_domain}`;
}

/** The endpoint user `id` connects to: servers are dealt by ID, round-robin. */
export function serverFor(id: number, servers: readonly string[]): string {
  if (servers.length === 0) throw new XmppError("XMPP_CONNECT_FAILED", "connect", "other", "xmpp_servers is empty", "set AMOC_XMPP_SERVERS, e.g. xmpp://127.0.0.1:5222");
  return servers[(id - 1) % servers.length] as string;
}

function checkService(service: string): void {
  let u: URL;
  try {
    u = new URL(service);
  } catch {
    throw new XmppError("XMPP_CONNECT_FAILED", "connect", "other", `xmpp_servers entry '${service}' is not a URL`, "use xmpp://host:5222, xmpps://host:5223, ws://host:5280/xmpp-websocket or wss://...");
  }
  if (!["xmpp:", "xmpps:", "ws:", "wss:"].includes(u.protocol)) {
    throw new XmppError("XMPP_CONNECT_FAILED", "connect", "other", `xmpp_servers entry '${service}' has an unknown scheme ${u.protocol}`, "use xmpp://, xmpps://, ws:// or wss://");
  }
}

/** Connects user `ctx.id`, retrying `xmpp_connect_retries` times (never on bad credentials); online when it resolves. */
export async function connectUser(ctx: XmppContext, opts: ConnectOptions = {}): Promise<XmppUser> {
  const s = ctx.settings;
  installTransportPatches();
  configureTransports({ verifyTls: s.xmpp_tls_verify, handshakeTimeoutMs: opts.timeoutMs ?? s.xmpp_connect_timeout });
  const service = opts.server ?? serverFor(ctx.id, s.xmpp_servers);
  const previousPhase = ctx.phase;
  ctx.phase = "connect";
  try {
    checkService(service);
  } catch (e) {
    ctx.metrics.count("xmpp.connection_failures");
    ctx.metrics.count("xmpp.connection_failures.config");
    throw e;
  }
  const username = opts.username ?? fromTemplate(s.xmpp_user_template, ctx.id);
  const password = opts.password ?? fromTemplate(s.xmpp_password_template, ctx.id);
  const timeoutMs = opts.timeoutMs ?? s.xmpp_connect_timeout;
  const attempts = 1 + s.xmpp_connect_retries;
  for (let attempt = 1; ; attempt++) {
    if (ctx.signal.aborted) throw new UserAbortedError(ctx.id);
    const t0 = performance.now();
    const client = createClient({
      service,
      domain: s.xmpp_domain,
      username,
      password,
      resource: opts.resource ?? "amoc",
      mechanism: s.xmpp_sasl_mechanism,
      timeoutMs,
      starttls: opts.starttls ?? false,
      streamManagement: s.xmpp_stream_management,
      beforeAuth: opts.register ? (c) => register(c, ctx, s.xmpp_domain, username, password) : undefined,
    });
    let lastError: Error | undefined;
    client.on("error", (e) => (lastError = e)); // an EventEmitter 'error' without listener would crash the node
    try {
      await bounded(client.start(), timeoutMs, ctx.signal, `connecting ${username} to ${service}`);
      ctx.metrics.timing("xmpp.connection", performance.now() - t0);
      ctx.metrics.count("xmpp.connections");
      ctx.phase = previousPhase;
      return new XmppUser(client, ctx, `${username}@${s.xmpp_domain}`);
    } catch (e) {
      killSocket(client);
      if (e instanceof UserAbortedError) throw e;
      const cause = e instanceof TimeoutError ? e : (lastError ?? e);
      const reason = e instanceof TimeoutError ? "timeout" : classifyFailure(cause);
      ctx.metrics.count("xmpp.connection_failures");
      ctx.metrics.count(`xmpp.connection_failures.${reason}`);
      if (reason === "auth" || attempt >= attempts) {
        throw new XmppError("XMPP_CONNECT_FAILED", reason === "auth" ? "auth" : "connect", reason, `${reason}: ${errorMessage(cause)}`, hintFor(reason), cause);
      }
      ctx.log.debug({ msg: "xmpp_connect_retry", attempt, reason, err: errorMessage(cause) });
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** (attempt - 1))));
    }
  }
}

/** XEP-0077 in-band registration inside the open, unauthenticated stream; "conflict" means the account exists. */
async function register(c: RawClient, ctx: XmppContext, domain: string, username: string, password: string): Promise<void> {
  const t0 = performance.now();
  try {
    await c.iqCaller.request(xml("iq", { type: "set", to: domain }, xml("query", NS_REGISTER, xml("username", {}, username), xml("password", {}, password))), 10_000);
    ctx.metrics.count("xmpp.registrations");
    ctx.metrics.timing("xmpp.registration", performance.now() - t0);
  } catch (e) {
    if ((e as { condition?: string }).condition !== "conflict") {
      ctx.metrics.count("xmpp.registration_failures");
      throw Object.assign(new Error(`registration refused: ${(e as { condition?: string }).condition ?? errorMessage(e)}`), { name: "SASLError" });
    }
    ctx.metrics.count("xmpp.registration_conflicts");
  }
}

/** Waits for `p`, rejecting on timeout or abort. */
function bounded<T>(p: Promise<T>, timeoutMs: number, signal: AbortSignal, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => finish(() => reject(new UserAbortedError(0)));
    const timer = setTimeout(() => finish(() => reject(new TimeoutError(what, timeoutMs))), timeoutMs);
    const finish = (f: () => void) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      f();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(e)),
    );
  });
}

/** Destroys whatever socket a client holds (TCP, TLS wrapper or WebSocket wrapper). */
function killSocket(c: RawClient): void {
  const s = c.socket as { destroy?: () => void; socket?: { destroy?: () => void; terminate?: () => void } } | null;
  try {
    if (s?.socket?.destroy) s.socket.destroy();
    else if (s?.socket?.terminate) s.socket.terminate();
    else s?.destroy?.();
  } catch {
    // already gone
  }
}

interface Waiter {
  pred: (el: Element) => boolean;
  resolve: (el: Element) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** An online XMPP session of one user. */
export class XmppUser {
  private readonly waiters: Waiter[] = [];
  private readonly inbox: Element[] = [];
  private closed = false;
  private readonly onAbort = () => void this.close();

  constructor(
    private readonly client: RawClient,
    private readonly ctx: XmppContext,
    /** The bare JID. */
    readonly jid: string,
  ) {
    client.on("stanza", (el) => this.onStanza(el));
    ctx.signal.addEventListener("abort", this.onAbort, { once: true });
  }

  get online(): boolean {
    return !this.closed && this.client.status === "online";
  }

  private onStanza(el: Element): void {
    const m = this.ctx.metrics;
    if (el.name === "message") {
      const ttd = el.getChild("ttd", NS_TTD);
      const type = el.attrs.type as string | undefined;
      if (type === "error") m.count("xmpp.message_errors");
      else if (ttd) {
        const own = type === "groupchat" && ttd.attrs.from === this.jid;
        if (own) m.count("xmpp.groupchat_echoes");
        else {
          m.count("xmpp.messages_received");
          const sent = Number(ttd.attrs.sent);
          if (Number.isFinite(sent)) m.timing("xmpp.message_ttd", Math.max(0, epochMs() - sent));
        }
      }
    }
    const i = this.waiters.findIndex((w) => w.pred(el));
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      clearTimeout(w!.timer);
      w!.resolve(el);
      return;
    }
    m.count("xmpp.stanzas_unmatched");
    if (this.inbox.push(el) > INBOX_LIMIT) {
      this.inbox.shift();
      m.count("xmpp.stanzas_dropped");
    }
  }

  /** Sends a stanza. */
  async send(el: Element): Promise<void> {
    if (this.closed) throw new XmppError("XMPP_CONNECT_FAILED", "send", "closed", `${this.jid} is not connected`, "connect before sending");
    try {
      await this.client.send(el);
    } catch (e) {
      throw new XmppError("XMPP_CONNECT_FAILED", "send", classifyFailure(e), `send failed: ${errorMessage(e)}`, hintFor(classifyFailure(e)), e);
    }
  }

  /** Sends a chat message carrying its send time; `to` is a JID or a user ID. */
  async sendChat(to: string | number, body = "hello"): Promise<void> {
    const dest = typeof to === "number" ? userJid(to, this.ctx.settings) : to;
    await this.send(xml("message", { to: dest, type: "chat" }, xml("body", {}, body), this.ttdElement()));
    this.ctx.metrics.count("xmpp.messages_sent");
  }

  /** Sends a groupchat message to a room, carrying its send time. */
  async sendGroupchat(room: string, body = "hello"): Promise<void> {
    await this.send(xml("message", { to: room, type: "groupchat" }, xml("body", {}, body), this.ttdElement()));
    this.ctx.metrics.count("xmpp.messages_sent");
  }

  private ttdElement(): Element {
    return xml("ttd", { xmlns: NS_TTD, sent: epochMs().toFixed(3), from: this.jid });
  }

  /** Sends presence (available by default; `to` for directed presence, `type` e.g. "unavailable"). */
  sendPresence(attrs: Record<string, string> = {}, ...children: Element[]): Promise<void> {
    return this.send(xml("presence", attrs, ...children));
  }

  /** Takes the first already received stanza matching `pred`, without waiting. */
  poll(pred: (el: Element) => boolean): Element | undefined {
    const i = this.inbox.findIndex(pred);
    return i >= 0 ? this.inbox.splice(i, 1)[0] : undefined;
  }

  /** Resolves with the first stanza (already received or arriving) matching `pred`; rejects on timeout or removal. */
  waitFor(pred: (el: Element) => boolean, timeoutMs: number, what = "stanza"): Promise<Element> {
    const buffered = this.poll(pred);
    if (buffered) return Promise.resolve(buffered);
    if (this.closed) return Promise.reject(this.closedError(what));
    if (this.ctx.signal.aborted) return Promise.reject(new UserAbortedError(this.ctx.id));
    return new Promise<Element>((resolve, reject) => {
      const w: Waiter = {
        pred,
        resolve,
        reject,
        timer: setTimeout(() => {
          const k = this.waiters.indexOf(w);
          if (k >= 0) this.waiters.splice(k, 1);
          this.ctx.metrics.count("xmpp.timeouts");
          reject(new XmppError("XMPP_STANZA_TIMEOUT", "wait", "stanza_timeout", `${this.jid}: no ${what} within ${timeoutMs} ms`, "the server did not deliver in time: raise the timeout or lower the load"));
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }

  /** Waits for a chat message (from `from`, a JID or user ID, when given). */
  waitForChat(timeoutMs: number, from?: string | number): Promise<Element> {
    const bare = from === undefined ? undefined : typeof from === "number" ? userJid(from, this.ctx.settings) : from;
    return this.waitFor((el) => el.name === "message" && el.attrs.type === "chat" && (!bare || String(el.attrs.from).split("/")[0] === bare), timeoutMs, bare ? `chat from ${bare}` : "chat message");
  }

  /** Sends an IQ and resolves with the result (rejects with the stanza error or on timeout). */
  async iq(el: Element, timeoutMs = 10_000): Promise<Element> {
    try {
      return await this.client.iqCaller.request(el, timeoutMs);
    } catch (e) {
      if ((e as Error).name === "TimeoutError") {
        this.ctx.metrics.count("xmpp.timeouts");
        throw new XmppError("XMPP_STANZA_TIMEOUT", "iq", "stanza_timeout", `${this.jid}: no IQ reply within ${timeoutMs} ms`, "the server did not answer in time");
      }
      throw e;
    }
  }

  /** Closes the stream and socket (bounded); pending waits reject. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ctx.signal.removeEventListener("abort", this.onAbort);
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(this.ctx.signal.aborted ? new UserAbortedError(this.ctx.id) : this.closedError("stanza"));
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([this.client.stop(), new Promise((_, rej) => (timer = setTimeout(() => rej(new Error("close timed out")), CLOSE_TIMEOUT_MS)))]);
    } catch {
      killSocket(this.client);
    } finally {
      clearTimeout(timer);
    }
    this.ctx.metrics.count("xmpp.disconnections");
  }

  private closedError(what: string): XmppError {
    return new XmppError("XMPP_CONNECT_FAILED", "wait", "closed", `${this.jid}: connection closed while waiting for ${what}`, hintFor("closed"));
  }
}

/** Epoch ms with sub-ms precision: the send time chats carry (receivers on other hosts need synced clocks). */
function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
