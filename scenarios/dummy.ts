/**
 * dummy: does nothing but sleep `dummy_sleep_ms` per run of start(). Exercises the user machinery (scheduling,
 * repeats, removal) without any server; the default scenario of `make demo` before XMPP was available.
 */
import { defineScenario, nonNegative } from "amoc-ts";

export default defineScenario({
  variables: {
    dummy_sleep_ms: { default: 0, doc: "ms each run of start() sleeps", verify: nonNegative, updatable: true },
  },
  async start(_id, _state, ctx) {
    const ms = ctx.vars.dummy_sleep_ms;
    if (ms > 0) await ctx.sleep(ms);
    ctx.metrics.count("dummy.runs");
  },
});
