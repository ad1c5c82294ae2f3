/**
 * idle: a user that holds its place until it is removed or stopped, doing nothing. Used to measure what an
 * idle user costs (memory per user, start rate) and to test removal.
 */
import type { UserContext } from "../src/scenario/api.js";

export async function start(_id: number, _state: unknown, ctx: UserContext): Promise<void> {
  await ctx.stopped();
}
