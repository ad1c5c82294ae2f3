/**
 * one_to_one: the amoc classic. Each user connects, goes online, finds its neighbour (odd IDs pair with the next
 * even ID), sends it `message_count` chats every `message_interval` ms, receives as many (time to delivery is
 * measured on arrival), lingers `linger_ms`, and disconnects.
 *
 * Neighbours meet by directed presence: each user sends presence to its neighbour; whoever comes online second
 * is heard by the first, which answers. So nobody sends to a user that is not online yet (Prosody and ejabberd
 * drop or bounce chats to offline users), and received == sent when the server delivers everything.
 * With `meet_by: "coordinator"` users are paired by the cluster-wide coordinator instead (in the order they come
 * online, across nodes): each joins once online, so its partner is online too.
 */
import { defineScenario, nonNegative, oneOf } from "amoc-ts";
import { NS, connectUser, iq, is, meetPeer, neighbourOf, userJid, xml } from "amoc-ts/xmpp";

export default defineScenario({
  variables: {
    message_count: { default: 5, doc: "chats each user sends to its neighbour", verify: nonNegative },
    message_interval: { default: 100, doc: "ms between two chats", verify: nonNegative, updatable: true },
    neighbour_timeout: { default: 30_000, doc: "ms to wait for the neighbour to come online", verify: nonNegative },
    receive_timeout: {
      default: 30_000,
      doc: "ms to wait for the neighbour's chats after sending ours",
      verify: nonNegative,
    },
    linger_ms: { default: 0, doc: "ms to stay online after the exchange", verify: nonNegative },
    meet_by: {
      default: "presence",
      doc: "how partners meet: presence (neighbour IDs) or coordinator (pairs as users come online, cluster-wide)",
      verify: oneOf("presence", "coordinator"),
    },
  },
  async start(id, _state, ctx) {
    const v = ctx.vars;
    let peerJid = userJid(neighbourOf(id), ctx.settings);
    const user = await connectUser(ctx);
    try {
      await user.sendPresence();
      ctx.phase = "meet";
      if (v.meet_by === "coordinator") {
        // a round trip first: once the server answers, it has processed our presence (stanzas run in order)
        await user.request(iq.get(ctx.settings.xmpp_domain, xml("ping", { xmlns: NS.PING })), v.neighbour_timeout);
        const pair = await ctx.coordinate("one_to_one", {
          groupSize: 2,
          timeoutMs: v.neighbour_timeout,
          value: userJid(id, ctx.settings),
        });
        const peer = pair.find((m) => m.id !== id);
        if (!peer) throw new Error(`no partner came online within ${v.neighbour_timeout} ms`);
        peerJid = String(peer.value);
      } else await meetPeer(user, peerJid, v.neighbour_timeout);
      ctx.phase = "send";
      for (let i = 0; i < v.message_count; i++) {
        if (i > 0 && v.message_interval > 0) await ctx.sleep(v.message_interval);
        await user.sendChat(peerJid, `message ${i + 1} from ${id}`);
      }
      ctx.phase = "receive";
      for (let i = 0; i < v.message_count; i++)
        await user.waitFor(is.chat({ from: peerJid }), v.receive_timeout, `chat from ${peerJid}`);
      if (v.linger_ms > 0) await ctx.sleep(v.linger_ms);
    } finally {
      await user.close();
    }
  },
});
