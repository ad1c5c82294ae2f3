/**
 * ping: XEP-0199 round trips to the server. Each user logs in, then sends `ping_count` pings, `ping_interval` ms
 * apart, and waits for each answer. Measures the IQ round-trip time (xmpp.iq.ping, ms): the server's latency under
 * the load of the others. Counts ping.pongs; with a healthy server ping.pongs == users x ping_count.
 *
 * Variables: ping_count (pings per user), ping_interval (ms between pings, updatable), ping_timeout (ms to wait for
 * each answer), ping_to (whom to ping; empty: the server, `xmpp_domain`).
 */
import { defineScenario, duration, nonNegative } from "amoc-ts";
import { NS, connectUser, iq, xml } from "amoc-ts/xmpp";

export default defineScenario({
  variables: {
    ping_count: { default: 10, doc: "pings each user sends", verify: nonNegative },
    ping_interval: { default: 1000, doc: "ms between two pings", verify: duration, updatable: true },
    ping_timeout: { default: 10_000, doc: "ms to wait for each answer", verify: duration },
    ping_to: { default: "", doc: "JID to ping; empty: the server (xmpp_domain)" },
  },
  async start(_id, _state, ctx) {
    const v = ctx.vars;
    const to = v.ping_to || ctx.settings.xmpp_domain;
    const user = await connectUser(ctx);
    try {
      ctx.phase = "ping";
      for (let i = 0; i < v.ping_count; i++) {
        if (i > 0 && v.ping_interval > 0) await ctx.sleep(v.ping_interval);
        await user.request(iq.get(to, xml("ping", { xmlns: NS.PING })), v.ping_timeout);
        ctx.metrics.count("ping.pongs");
      }
    } finally {
      await user.close();
    }
  },
});
