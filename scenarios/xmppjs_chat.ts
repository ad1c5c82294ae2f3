/**
 * xmppjs_chat: one_to_one written with xmpp.js (`amoc-ts/xmppjs`): the same exchange as one_to_one (pairs 1<->2,
 * 3<->4, ... meet by directed presence, send `message_count` chats each, receive as many), over an `@xmpp/client`
 * Client and its `stanza` events instead of the lean client. For comparing the two clients on one workload, and as
 * an example for authors who know xmpp.js.
 *
 * Metrics: xmpp.connection, xmpp.connections (the login, as the lean client reports it), chat.messages_sent,
 * chat.messages_received, chat.ttd (ms from sending to receiving, same host clocks). With a healthy server
 * chat.messages_received == chat.messages_sent.
 *
 * Variables: message_count, message_interval (updatable), neighbour_timeout, receive_timeout, hold_ms (ms to stay
 * online after the exchange).
 */
import { defineScenario, duration, nonNegative } from "amoc-ts";
import { neighbourOf, userJid } from "amoc-ts/xmpp";
import { connectClient, xml, type Element } from "amoc-ts/xmppjs";

const NS_SENT = "urn:amoc-ts:ttd";

export default defineScenario({
  variables: {
    message_count: { default: 5, doc: "chats each user sends to its neighbour", verify: nonNegative },
    message_interval: { default: 100, doc: "ms between two chats", verify: duration, updatable: true },
    neighbour_timeout: { default: 30_000, doc: "ms to wait for the neighbour to come online", verify: duration },
    receive_timeout: { default: 30_000, doc: "ms to wait for the neighbour's chats", verify: duration },
    hold_ms: { default: 0, doc: "ms to stay online after the exchange", verify: duration },
  },
  async start(id, _state, ctx) {
    const v = ctx.vars;
    const peer = userJid(neighbourOf(id), ctx.settings);
    const x = await connectClient(ctx);
    try {
      // what the neighbour sends, counted as it arrives; `seen` resolves the waits below
      let peerOnline = false;
      let received = 0;
      let wake: (() => void) | undefined;
      x.on("stanza", (el: Element) => {
        const from = String(el.attrs.from ?? "").split("/")[0];
        if (from !== peer) return;
        if (el.is("presence") && el.attrs.type === undefined) peerOnline = true;
        else if (el.is("message") && el.attrs.type === "chat" && el.getChild("body")) {
          received++;
          ctx.metrics.count("chat.messages_received");
          const sent = Number(el.getChild("ttd", NS_SENT)?.attrs.sent);
          if (Number.isFinite(sent))
            ctx.metrics.timing("chat.ttd", Math.max(0, performance.timeOrigin + performance.now() - sent));
        }
        wake?.();
      });
      const until = (cond: () => boolean, timeoutMs: number, what: string) =>
        new Promise<void>((resolve, reject) => {
          if (cond()) return resolve();
          const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
          wake = () => {
            if (!cond()) return;
            clearTimeout(timer);
            wake = undefined;
            resolve();
          };
        });
      await x.send(xml("presence"));
      ctx.phase = "meet";
      await x.send(xml("presence", { to: peer }));
      await until(() => peerOnline, v.neighbour_timeout, `presence of ${peer}`);
      await x.send(xml("presence", { to: peer }));
      ctx.phase = "send";
      for (let i = 0; i < v.message_count; i++) {
        if (i > 0 && v.message_interval > 0) await ctx.sleep(v.message_interval);
        const sent = (performance.timeOrigin + performance.now()).toFixed(3);
        await x.send(
          xml(
            "message",
            { to: peer, type: "chat" },
            xml("body", {}, `message ${i + 1} from ${id}`),
            xml("ttd", { xmlns: NS_SENT, sent }),
          ),
        );
        ctx.metrics.count("chat.messages_sent");
      }
      ctx.phase = "receive";
      await until(() => received >= v.message_count, v.receive_timeout, `${v.message_count} chats from ${peer}`);
      if (v.hold_ms > 0) await ctx.sleep(v.hold_ms);
    } finally {
      await x.stop().catch(() => undefined);
    }
  },
});
