/**
 * bench_chat: the workload of the tsung comparison (bench/xmpp-vs-tsung.sh), step for step what
 * bench/tsung/xmpp-chat.xml.tpl does: log in, initial presence, think `chat_interval`, then `chat_count` times
 * (chat to an online user, think `chat_interval`), hold `hold_ms`, close. With chat_count=0 it is a plain
 * login + presence + hold (bench/xmpp-hold.sh). The peer is the neighbour (1<->2, 3<->4; `peer=neighbour`) or, as
 * tsung's `destination="online"`, a user picked at random among those that sent their initial presence and have not
 * closed yet (`peer=online`; this process's users only, as tsung's controller knows only its own).
 * Like tsung, a user does not read what it receives (the peer's chats, its own presence echoed): it is counted, and
 * chats timed, on arrival (xmpp.messages_received = xmpp.messages_sent when all were delivered), then dropped.
 * Waiting for each chat instead would keep a waiter and a timer per chat alive for seconds (~2.5 KB per user).
 * `warmup_ms` idles the node once before the first user starts, so a sampler sees its base memory.
 */
import { defineScenario, nonNegative, oneOf } from "amoc-ts";
import { connectUser, userJid, type Element } from "amoc-ts/xmpp";

/** What a bench_chat user receives and does not read. */
const unread = (el: Element) => el.name === "message" || el.name === "presence";

/**
 * The users online in this process, for `peer=online`: IDs in a dense array and each ID's slot, so that adding,
 * removing and a uniform pick are O(1) and cost a few bytes per user (tsung keeps the same set in its controller).
 */
const online = { ids: [] as number[], slot: new Map<number, number>() };
function goOnline(id: number): void {
  online.slot.set(id, online.ids.length);
  online.ids.push(id);
}
function goOffline(id: number): void {
  const i = online.slot.get(id);
  if (i === undefined) return;
  const last = online.ids.pop()!;
  if (last !== id) {
    online.ids[i] = last;
    online.slot.set(last, i);
  }
  online.slot.delete(id);
}
/** A random online user other than `id`, or the neighbour while `id` is alone. */
function randomOnline(id: number): number {
  const n = online.ids.length;
  if (n < 2) return id % 2 === 1 ? id + 1 : id - 1;
  const pick = online.ids[Math.floor(Math.random() * n)]!;
  return pick !== id ? pick : online.ids[(online.slot.get(id)! + 1) % n]!;
}

export default defineScenario({
  variables: {
    chat_count: { default: 3, doc: "chats each user sends to its neighbour", verify: nonNegative },
    chat_interval: {
      default: 2000,
      doc: "ms of think time after presence and after each chat (tsung thinktime 2)",
      verify: nonNegative,
    },
    hold_ms: { default: 60_000, doc: "ms to stay online after the chats (tsung thinktime 60)", verify: nonNegative },
    peer: {
      default: "neighbour",
      doc: "whom each chat goes to: neighbour (1<->2, 3<->4) or online (a random online user, as tsung's destination=online)",
      verify: oneOf("neighbour", "online"),
    },
    warmup_ms: {
      default: 0,
      doc: "ms the node idles before the first user starts (a sampler's base)",
      verify: nonNegative,
    },
  },
  async init(ctx) {
    if (ctx.vars.warmup_ms > 0) await ctx.sleep(ctx.vars.warmup_ms);
  },
  async start(id, _state, ctx) {
    const v = ctx.vars;
    const byOnline = v.peer === "online";
    const neighbourJid = byOnline ? "" : userJid(id % 2 === 1 ? id + 1 : id - 1, ctx.settings);
    const user = await connectUser(ctx);
    try {
      user.discard(unread);
      await user.sendPresence();
      if (byOnline) goOnline(id);
      ctx.phase = "send";
      if (v.chat_count > 0) await ctx.sleep(v.chat_interval);
      for (let i = 0; i < v.chat_count; i++) {
        const to = byOnline ? userJid(randomOnline(id), ctx.settings) : neighbourJid;
        await user.sendChat(to, `chat ${i + 1} from ${id}`);
        await ctx.sleep(v.chat_interval);
      }
      ctx.phase = "hold";
      await ctx.sleep(v.hold_ms);
    } finally {
      if (byOnline) goOffline(id);
      await user.close();
    }
  },
});
