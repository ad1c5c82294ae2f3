/** A user pool over a scenario's start function, shared by the unit (fake time) and timing (wall clock) tests. */
import type { Clock } from "../../src/clock.js";
import { loadNodeSettings } from "../../src/config/load.js";
import { silentLogger } from "../../src/log.js";
import { TelemetryMetrics } from "../../src/metrics/metrics.js";
import type { UserContext } from "../../src/scenario/api.js";
import { Telemetry } from "../../src/telemetry.js";
import { RangeCursor } from "../../src/users/schedule.js";
import { UserPool } from "../../src/users/user-pool.js";
import { FakeClock } from "./fake-clock.js";

type Start = (id: number, s: unknown, ctx: UserContext) => Promise<void>;

/** A pool running each user once (AMOC_REPEAT_NUM=1 unless env says otherwise), on the clock given or the system's. */
export function newPool(start: Start, o: { env?: NodeJS.ProcessEnv; forceGraceMs?: number; clock?: Clock } = {}) {
  const telemetry = new Telemetry();
  const settings = loadNodeSettings({ env: { AMOC_REPEAT_NUM: "1", ...o.env } });
  const p = new UserPool({
    scenario: { start },
    state: undefined,
    vars: {},
    settings,
    telemetry,
    metrics: new TelemetryMetrics(telemetry),
    log: silentLogger(),
    forceGraceMs: o.forceGraceMs,
    clock: o.clock,
  });
  return { p, telemetry };
}

/** A pool on fake time, with `plan` making a range of users that starts now. */
export function pool(start: Start, env: NodeJS.ProcessEnv = {}, forceGraceMs = 2000) {
  const clock = new FakeClock(1_000);
  const { p, telemetry } = newPool(start, { env, forceGraceMs, clock });
  const plan = (from: number, to: number, ia: number, step = 1, offset = 0) =>
    new RangeCursor({ from, to, step, offset, t0Ms: clock.now(), baseId: from, interarrivalMs: ia });
  return { p, telemetry, clock, plan };
}

export const range = <T>(from: number, to: number, f: (id: number) => T) =>
  Array.from({ length: to - from + 1 }, (_, i) => f(from + i));
