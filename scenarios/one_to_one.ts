/**
 * one_to_one: the amoc classic. Each user connects, goes online, finds its neighbour (odd IDs pair with the next
 * even ID), sends it `message_count` chats every `message_interval` ms, receives as many (time to delivery is
 * measured on arrival), lingers `linger_ms`, and disconnects.
 *
 * Neighbours meet by directed presence: each user sends presence to its neighbour; whoever comes online second
 * is heard by the first, which answers. So nobody sends to a user that is not online yet (Prosody and ejabberd
 * drop or bounce chats to offline users), and received == sent when the server delivers everything.
 */
import { defineVariables, type UserContext, type VariableValues } from "amoc-ts";
import { connectUser, userJid } from "amoc-ts/xmpp";

const positive = (v: number) => (Number.isFinite(v) && v >= 0) || "must be a number >= 0";

export const variables = defineVariables({
  message_count: { default: 5, doc: "chats each user sends to its neighbour", verify: positive },
  message_interval: { default: 100, doc: "ms between two chats", verify: positive, updatable: true },
  neighbour_timeout: { default: 30_000, doc: "ms to wait for the neighbour to come online", verify: positive },
  receive_timeout: { default: 30_000, doc: "ms to wait for the neighbour's chats after sending ours", verify: positive },
  linger_ms: { default: 0, doc: "ms to stay online after the exchange", verify: positive },
});
type Vars = VariableValues<typeof variables>;

/** The user this one talks to: 1<->2, 3<->4, ... */
export function neighbourOf(id: number): number {
  return id % 2 === 1 ? id + 1 : id - 1;
}

export async function start(id: number, _state: unknown, ctx: UserContext<Vars>): Promise<void> {
  const v = ctx.vars;
  const peer = neighbourOf(id);
  const peerJid = userJid(peer, ctx.settings);
  const user = await connectUser(ctx);
  try {
    await user.sendPresence();
    ctx.phase = "meet";
    const fromPeer = (el: { name: string; attrs: Record<string, string> }) => el.name === "presence" && String(el.attrs.from).split("/")[0] === peerJid && el.attrs.type === undefined;
    await user.sendPresence({ to: peerJid });
    await user.waitFor(fromPeer, v.neighbour_timeout, `presence of ${peerJid}`);
    // the neighbour may have come online after our first presence: tell it we are here
    await user.sendPresence({ to: peerJid });
    ctx.phase = "send";
    for (let i = 0; i < v.message_count; i++) {
      if (i > 0 && v.message_interval > 0) await ctx.sleep(v.message_interval);
      await user.sendChat(peerJid, `message ${i + 1} from ${id}`);
    }
    ctx.phase = "receive";
    for (let i = 0; i < v.message_count; i++) await user.waitForChat(v.receive_timeout, peerJid);
    if (v.linger_ms > 0) await ctx.sleep(v.linger_ms);
  } finally {
    await user.close();
  }
}
