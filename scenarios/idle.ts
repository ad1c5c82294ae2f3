/**
 * idle: a user that holds its place until it is removed or stopped, doing nothing. Used to measure what an
 * idle user costs (memory per user, start rate) and to test removal. `start` returns the stop promise directly
 * instead of being `async`: an async function would keep its own generator alive per user (~0.4 KB).
 */
import { defineScenario } from "amoc-ts";

export default defineScenario({
  start: (_id, _state, ctx) => ctx.stopped(),
});
