/**
 * login_storm: connect, send presence, disconnect. Measures the login rate the server sustains and the time to
 * online (xmpp.connection). Repeat with --repeat / repeat_num for sustained churn.
 */
import { defineScenario, nonNegative } from "amoc-ts";
import { connectUser } from "amoc-ts/xmpp";

export default defineScenario({
  variables: {
    hold_ms: { default: 0, doc: "ms to stay online before disconnecting", verify: nonNegative, updatable: true },
  },
  async start(_id, _state, ctx) {
    const user = await connectUser(ctx);
    try {
      await user.sendPresence();
      if (ctx.vars.hold_ms > 0) await ctx.sleep(ctx.vars.hold_ms);
    } finally {
      await user.close();
    }
  },
});
