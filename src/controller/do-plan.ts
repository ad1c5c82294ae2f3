/** How a local `do` lays out its users (one start plan, a load shape's removals) and what a stop says of crashes. */
import type { Logger } from "../log.js";
import { RemovalDriver, type LoadShape } from "../shapes/stages.js";
import { nowMs } from "../users/schedule.js";
import type { Run } from "./run.js";

/** What the removals of a load shape call back into. */
export interface DoHooks {
  remove(n: number): unknown;
  onRemovalError(e: unknown): void;
}

/**
 * Starts users `from..to` of a prepared run: one every `interarrival` ms from now, or on the shape's instants; a
 * shape's ramp-downs remove users on their own timer.
 */
export function startDo(run: Run, from: number, to: number, shape: LoadShape | undefined, hooks: DoHooks): void {
  const t0Ms = nowMs();
  run.startRange({
    from,
    to,
    step: 1,
    offset: 0,
    t0Ms,
    baseId: from,
    interarrivalMs: run.settings.interarrival,
    ...(shape ? { segments: shape.segments } : {}),
  });
  if (shape?.removals.length)
    run.removals = new RemovalDriver(t0Ms, shape.removals, (n) => hooks.remove(n), hooks.onRemovalError).start();
}

/** Only the first crash of each kind is logged at warn: say how many lines were left out, once. */
export function warnCrashLinesLeftOut(run: Run, log: Logger): void {
  const leftOut = run.pool.crashLinesLeftOut();
  if (leftOut > 0)
    log.warn({
      msg: "user_crashed_lines_left_out",
      left_out: leftOut,
      hint: "every crash is counted in the summary's errors; AMOC_LOG_LEVEL=debug logs each",
    });
}
