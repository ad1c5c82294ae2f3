/**
 * A worker's own health in each interval it publishes (event-loop lag p99, CPU, open fds and their limit), so a
 * capacity search over the cluster judges every worker per step (node/capacity/health.ts): a step one worker could
 * not drive is reported as generator-limited. Its own sampler: the telemetry bridge's keeps its windows.
 */
import { readFileSync } from "node:fs";
import { EVENT_LOOP_LAG_P99, OPEN_FDS } from "../metrics/names.js";
import { ProcessSampler } from "../metrics/process-sampler.js";
import { CPU_PCT_GAUGE, FD_LIMIT_GAUGE } from "../results/capacity-record.js";

/** The soft open-file limit of this process (undefined: not Linux, or unreadable). */
function fdLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** A function giving this process's health gauges since its previous call. */
export function workerHealthGauges(): () => Record<string, number> {
  const sampler = new ProcessSampler();
  const limit = fdLimit();
  return () => {
    const p = sampler.sample();
    const g: Record<string, number> = { [EVENT_LOOP_LAG_P99]: p.eventLoopLagP99Ms, [CPU_PCT_GAUGE]: p.cpuPct };
    if (p.openFds !== undefined) g[OPEN_FDS] = p.openFds;
    if (limit !== undefined) g[FD_LIMIT_GAUGE] = limit;
    return g;
  };
}
