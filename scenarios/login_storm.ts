/**
 * login_storm: connect, send presence, disconnect. Measures the login rate the server sustains and the time to
 * online (xmpp.connection). Repeat with --repeat / repeat_num for sustained churn.
 */
import { defineVariables, type UserContext, type VariableValues } from "amoc-ts";
import { connectUser } from "amoc-ts/xmpp";

export const variables = defineVariables({
  hold_ms: { default: 0, doc: "ms to stay online before disconnecting", verify: (v: number) => v >= 0 || "must be >= 0", updatable: true },
});
type Vars = VariableValues<typeof variables>;

export async function start(_id: number, _state: unknown, ctx: UserContext<Vars>): Promise<void> {
  const user = await connectUser(ctx);
  try {
    await user.sendPresence();
    if (ctx.vars.hold_ms > 0) await ctx.sleep(ctx.vars.hold_ms);
  } finally {
    await user.close();
  }
}
