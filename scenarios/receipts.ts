/**
 * receipts: 1:1 chat with XEP-0184 delivery receipts. Users pair by ID (1<->2, 3<->4, ...) and meet by presence;
 * each sends `message_count` chats requesting a receipt, `message_interval` ms apart, answers every chat of its
 * neighbour with a receipt as it arrives, and collects the receipts of its own chats.
 *
 * Metrics: receipts.time (ms from sending a chat to receiving its receipt), receipts.requested, receipts.received,
 * receipts.sent (receipts this user answered with), receipts.missing (chats without a receipt after
 * `receipt_timeout`). The chats carry a send time, so xmpp.messages_received and xmpp.message_ttd count them too.
 * With a healthy server receipts.received == receipts.requested and receipts.missing == 0.
 *
 * Variables: message_count, message_interval (updatable), neighbour_timeout, receipt_timeout (ms to wait for the
 * last receipt and for the neighbour's last chat).
 */
import { defineScenario, duration, nonNegative } from "amoc-ts";
import { NS, NS_TTD, connectUser, is, meetPeer, neighbourOf, userJid, xml, type XmppUser } from "amoc-ts/xmpp";

export default defineScenario({
  variables: {
    message_count: {
      default: 5,
      doc: "chats each user sends to its neighbour, each requesting a receipt",
      verify: nonNegative,
    },
    message_interval: { default: 100, doc: "ms between two chats", verify: duration, updatable: true },
    neighbour_timeout: { default: 30_000, doc: "ms to wait for the neighbour to come online", verify: duration },
    receipt_timeout: {
      default: 30_000,
      doc: "ms to wait for outstanding receipts and the neighbour's chats",
      verify: duration,
    },
  },
  async start(id, _state, ctx) {
    const v = ctx.vars;
    const peer = userJid(neighbourOf(id), ctx.settings);
    const user = await connectUser(ctx);
    try {
      await user.sendPresence();
      ctx.phase = "meet";
      await meetPeer(user, peer, v.neighbour_timeout);
      ctx.phase = "exchange";
      const sentAt = new Map<string, number>();
      // three loops at once: sending, answering the neighbour's chats, collecting receipts as they arrive
      const answering = answer(user, peer, v.message_count, v.receipt_timeout, () =>
        ctx.metrics.count("receipts.sent"),
      );
      const collecting = (async () => {
        let received = 0;
        for (; received < v.message_count; received++) {
          const r = await user
            .waitFor(is.receipt({ from: peer }), v.receipt_timeout, `receipt from ${peer}`)
            .catch(() => undefined);
          if (!r) break;
          const t0 = sentAt.get(String(r.getChild("received", NS.RECEIPTS)?.attrs.id));
          if (t0 !== undefined) ctx.metrics.timing("receipts.time", performance.now() - t0);
          ctx.metrics.count("receipts.received");
        }
        if (received < v.message_count) ctx.metrics.count("receipts.missing", v.message_count - received);
      })();
      const sending = (async () => {
        for (let i = 0; i < v.message_count; i++) {
          if (i > 0 && v.message_interval > 0) await ctx.sleep(v.message_interval);
          const msgId = `r${id}-${i}-${Date.now().toString(36)}`;
          sentAt.set(msgId, performance.now());
          await user.send(
            xml(
              "message",
              { to: peer, type: "chat", id: msgId },
              xml("body", {}, `message ${i + 1} from ${id}`),
              xml("request", { xmlns: NS.RECEIPTS }),
              xml("ttd", {
                xmlns: NS_TTD,
                sent: (performance.timeOrigin + performance.now()).toFixed(3),
                from: user.jid,
              }),
            ),
          );
          ctx.metrics.count("receipts.requested");
        }
      })();
      await Promise.all([answering, collecting, sending]);
    } finally {
      await user.close();
    }
  },
});

/** Answers `count` chats of `peer` with a receipt each, as they arrive. */
async function answer(
  user: XmppUser,
  peer: string,
  count: number,
  timeoutMs: number,
  onSent: () => void,
): Promise<void> {
  for (let i = 0; i < count; i++) {
    const m = await user.waitFor(is.chat({ from: peer }), timeoutMs, `chat from ${peer}`);
    if (!m.getChild("request", NS.RECEIPTS) || !m.attrs.id) continue;
    await user.send(
      xml(
        "message",
        { to: String(m.attrs.from), id: `ack-${String(m.attrs.id)}` },
        xml("received", { xmlns: NS.RECEIPTS, id: String(m.attrs.id) }),
      ),
    );
    onSent();
  }
}
