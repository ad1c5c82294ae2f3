/**
 * Multi-user chat (XEP-0045) for scenarios: join a room (creating it as an instant room when first), send groupchat
 * messages and time their echo (xmpp.muc_ttd: from sending to the room reflecting the message back), wait for the
 * others' messages and for occupants, leave. Groupchat messages carry their send time, so the receivers count and
 * time them (xmpp.messages_received, xmpp.message_ttd) and own echoes are counted apart (xmpp.groupchat_echoes).
 */
import type { Metrics } from "../metrics/metrics.js";
import { NS_TTD, sendTime } from "./ttd.js";
import { xml, type Element } from "./xml.js";
import type { XmppUser } from "./xmpp-user.js";

export const NS_MUC = "http://jabber.org/protocol/muc";
export const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
export const NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner";

const DEFAULT_TIMEOUT_MS = 10_000;

/** How to join a room. */
export interface JoinOptions {
  /** The nickname in the room; default: the user's local part (user_12). */
  nick?: string;
  /** ms to wait for the room's answer, retries of a room still being created by another user included. */
  timeoutMs?: number;
  /** How many messages of the room's history to receive on joining (default 0). */
  history?: number;
}

/** What the MUC helpers need of a user's context: its metrics (a scenario's `ctx` has them). */
export interface MucContext {
  readonly metrics: Metrics;
}

let messageSeq = 0;

/** A room this user is in, as `joinRoom` returns it. */
export class MucRoom {
  /** Occupant JIDs (`room/nick`) seen present, this user's included; `waitForOccupants` keeps it up to date. */
  readonly occupants = new Set<string>();

  constructor(
    private readonly user: XmppUser,
    private readonly metrics: Metrics,
    /** The room's bare JID (room@service). */
    readonly room: string,
    readonly nick: string,
    /** This user created the room (the server answered the join with status 201). */
    readonly created: boolean,
  ) {
    this.occupants.add(this.jid);
  }

  /** This user's occupant JID, `room/nick`. */
  get jid(): string {
    return `${this.room}/${this.nick}`;
  }

  /**
   * Sends a groupchat message and waits for the room to reflect it back; resolves with the echo time in ms, also
   * timed as xmpp.muc_ttd. Counted in xmpp.messages_sent; the echo in xmpp.groupchat_echoes.
   */
  async groupchat(body = "hello", timeoutMs = DEFAULT_TIMEOUT_MS): Promise<number> {
    const sent = sendTime();
    const id = `muc-${(++messageSeq).toString(36)}`;
    const t0 = performance.now();
    const echo = this.user.waitFor(
      (el) =>
        el.name === "message" &&
        el.attrs.type === "groupchat" &&
        el.attrs.from === this.jid &&
        (el.attrs.id === id || el.getChild("ttd", NS_TTD)?.attrs.sent === sent),
      timeoutMs,
      `the echo of a groupchat message in ${this.room}`,
    );
    // the wait is registered first (the echo may arrive before send() returns); a failed send leaves it unheard
    echo.catch(() => undefined);
    await this.user.send(
      xml(
        "message",
        { to: this.room, type: "groupchat", id },
        xml("body", {}, body),
        xml("ttd", { xmlns: NS_TTD, sent, from: this.user.jid }),
      ),
    );
    await echo;
    const ms = performance.now() - t0;
    this.metrics.timing("xmpp.muc_ttd", ms);
    return ms;
  }

  /** Waits for a groupchat message of another occupant (of `nick` when given); it was counted and timed on arrival. */
  waitForGroupchat(timeoutMs = DEFAULT_TIMEOUT_MS, nick?: string): Promise<Element> {
    const prefix = `${this.room}/`;
    return this.user.waitFor(
      (el) => {
        if (el.name !== "message" || el.attrs.type !== "groupchat") return false;
        const from = String(el.attrs.from);
        if (!from.startsWith(prefix) || from === this.jid) return false;
        // the room's subject and history are not someone's message of this run
        if (el.getChild("body") === undefined || el.getChild("delay", "urn:xmpp:delay")) return false;
        return nick === undefined || from === prefix + nick;
      },
      timeoutMs,
      nick === undefined ? `groupchat in ${this.room}` : `groupchat of ${nick} in ${this.room}`,
    );
  }

  /** Waits until `count` occupants (this user included) are present; rejects on timeout. */
  async waitForOccupants(count: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    this.drainPresences();
    const deadline = Date.now() + timeoutMs;
    while (this.occupants.size < count) {
      const left = deadline - Date.now();
      const el = await this.user.waitFor(
        (e) => this.isRoomPresence(e),
        Math.max(1, left),
        `${count} occupants in ${this.room} (${this.occupants.size} present)`,
      );
      this.track(el);
    }
  }

  /** Leaves the room and waits (bounded) for the room to confirm. */
  async leave(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    const gone = this.user.waitFor(
      (el) => el.name === "presence" && el.attrs.from === this.jid && el.attrs.type === "unavailable",
      timeoutMs,
      `the room ${this.room} confirming the leave`,
    );
    gone.catch(() => undefined);
    await this.user.sendPresence({ to: this.jid, type: "unavailable" });
    await gone;
  }

  /** @internal takes the room's presences already received into `occupants`. */
  drainPresences(): void {
    for (let el = this.user.poll((e) => this.isRoomPresence(e)); el; el = this.user.poll((e) => this.isRoomPresence(e)))
      this.track(el);
  }

  private isRoomPresence(el: Element): boolean {
    return el.name === "presence" && String(el.attrs.from).startsWith(`${this.room}/`);
  }

  private track(el: Element): void {
    const from = String(el.attrs.from);
    if (el.attrs.type === "unavailable") this.occupants.delete(from);
    else if (el.attrs.type === undefined) this.occupants.add(from);
  }
}

/**
 * Joins `room` (room@service), creating it as an instant room when the server says this user created it. A room
 * another user is still creating refuses joins for a moment: the join is retried until `timeoutMs`. A nickname in
 * use or a room that refuses for another reason rejects with the room's error condition.
 */
export async function joinRoom(
  user: XmppUser,
  ctx: MucContext,
  room: string,
  opts: JoinOptions = {},
): Promise<MucRoom> {
  const nick = opts.nick ?? user.jid.split("@")[0] ?? "user";
  const me = `${room}/${nick}`;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    const self = user.waitFor(
      (el) => el.name === "presence" && el.attrs.from === me && el.attrs.type !== "unavailable",
      Math.max(1, deadline - Date.now()),
      `the join of ${room}`,
    );
    self.catch(() => undefined);
    await user.sendPresence(
      { to: me },
      xml("x", { xmlns: NS_MUC }, xml("history", { maxstanzas: String(opts.history ?? 0) })),
    );
    const answer = await self;
    if (answer.attrs.type !== "error") {
      const created = statusCodes(answer).includes("201");
      if (created)
        await user.request(
          xml(
            "iq",
            { type: "set", to: room, id: `muc-create-${(++messageSeq).toString(36)}` },
            xml("query", { xmlns: NS_MUC_OWNER }, xml("x", { xmlns: "jabber:x:data", type: "submit" })),
          ),
          Math.max(1, deadline - Date.now()),
          "muc_owner",
        );
      const r = new MucRoom(user, ctx.metrics, room, nick, created);
      // the occupants already in the room are announced before our own presence: they wait in the inbox
      r.drainPresences();
      return r;
    }
    const condition = errorCondition(answer);
    const retry = condition !== "conflict" && condition !== "not-allowed" && condition !== "forbidden";
    const pause = Math.min(1000, 50 * attempt);
    if (!retry || Date.now() + pause >= deadline)
      throw new Error(
        `cannot join ${room} as ${nick}: ${condition}${condition === "conflict" ? " (nick in use)" : ""}`,
      );
    ctx.metrics.count("xmpp.muc_join_retries");
    await new Promise((r) => setTimeout(r, pause));
  }
}

function statusCodes(presence: Element): string[] {
  const x = presence.getChild("x", NS_MUC_USER);
  return x ? x.getChildren("status").map((s) => String(s.attrs.code)) : [];
}

function errorCondition(el: Element): string {
  const err = el.getChild("error");
  const first = err?.children.find((c): c is Element => typeof c !== "string" && c.name !== "text");
  return first?.name ?? "unknown error";
}
