/**
 * The generator's own health over a capacity step, from the step's merged intervals: a step whose event loop lagged
 * or whose users crashed on fd/port exhaustion measured the generator, not the server, and is reported as such.
 */
import { CRASH_REASON_PREFIX } from "../../results/aggregator.js";
import type { MergedInterval } from "../../results/merge.js";
import { EVENT_LOOP_LAG_P99 } from "../../metrics/names.js";
import type { GeneratorHealth } from "../../results/capacity-record.js";

/** Event-loop delay p99 (ms) above which a node's figures are its own queueing, not the server's. */
export const LAG_LIMIT_MS = 200;
/** Crash reasons that mean the generator ran out of descriptors or ports. */
const EXHAUSTION = /EMFILE|ENFILE|EADDRNOTAVAIL|ENOBUFS/i;

/** CPU of the generator process (% of one core) above which its own figures are suspect. */
export const CPU_LIMIT_PCT = 90;
/** Event-loop lag p99 (ms) that, with CPU above CPU_LIMIT_PCT, says the generator's one core is saturated. */
export const BUSY_LAG_MS = 50;

/** One sample of a generator process (src/metrics/process-sampler.ts), taken during the step's hold. */
export interface HealthSample {
  lagP99Ms: number;
  cpuPct: number;
}

export function generatorHealth(
  intervals: readonly MergedInterval[],
  samples: readonly HealthSample[] = [],
): GeneratorHealth {
  let lag: number | null = samples.length ? Math.max(...samples.map((x) => x.lagP99Ms)) : null;
  const cpu = samples.length ? Math.max(...samples.map((x) => x.cpuPct)) : null;
  const exhaustion: Record<string, number> = {};
  for (const m of intervals) {
    for (const g of Object.values(m.nodeGauges)) {
      const v = g[EVENT_LOOP_LAG_P99];
      if (typeof v === "number") lag = Math.max(lag ?? 0, v);
    }
    for (const [k, v] of Object.entries(m.counters))
      if (k.startsWith(CRASH_REASON_PREFIX) && EXHAUSTION.test(k))
        exhaustion[k.slice(CRASH_REASON_PREFIX.length)] = (exhaustion[k.slice(CRASH_REASON_PREFIX.length)] ?? 0) + v;
  }
  const why: string[] = [];
  if (Object.keys(exhaustion).length)
    why.push(
      `users crashed on the generator's fd/port exhaustion (${Object.entries(exhaustion)
        .map(([k, v]) => `${v} x ${k}`)
        .join(", ")})`,
    );
  if (lag !== null && lag > LAG_LIMIT_MS) why.push(`event-loop lag p99 ${lag} ms > ${LAG_LIMIT_MS} ms`);
  // a busy core with a loop still on time is GC threads at work, not a saturated generator
  if (cpu !== null && cpu > CPU_LIMIT_PCT && lag !== null && lag > BUSY_LAG_MS)
    why.push(`generator CPU ${cpu} % of a core > ${CPU_LIMIT_PCT} %`);
  return { lagP99MaxMs: lag, cpuMaxPct: cpu, exhaustion, limited: why.length ? why.join("; ") : null };
}
