/**
 * dummy: does nothing but sleep `dummy_sleep_ms` per run of start(). Exercises the user machinery (scheduling,
 * repeats, removal) without any server; the default scenario of `make demo` before XMPP was available.
 */
import { defineVariables, type UserContext, type VariableValues } from "amoc-ts";

export const variables = defineVariables({
  dummy_sleep_ms: { default: 0, doc: "ms each run of start() sleeps", verify: (v: number) => (Number.isFinite(v) && v >= 0) || "must be >= 0", updatable: true },
});

type Vars = VariableValues<typeof variables>;

export async function start(_id: number, _state: unknown, ctx: UserContext<Vars>): Promise<void> {
  const ms = ctx.vars.dummy_sleep_ms;
  if (ms > 0) await ctx.sleep(ms);
  ctx.metrics.count("dummy.runs");
}
