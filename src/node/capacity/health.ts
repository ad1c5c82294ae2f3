/**
 * The generator's own health over a capacity step, from the step's merged intervals: a step whose event loop lagged
 * or whose users crashed on fd/port exhaustion measured the generator, not the server, and is reported as such.
 */
import { CRASH_REASON_PREFIX } from "../../results/aggregator.js";
import type { MergedInterval } from "../../results/merge.js";
import { EVENT_LOOP_LAG_P99, OPEN_FDS } from "../../metrics/names.js";
import { CPU_PCT_GAUGE, FD_LIMIT_GAUGE, type GeneratorHealth } from "../../results/capacity-record.js";

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

/** Share of a worker's open-file limit in use above which it is out of descriptors for new users. */
export const FD_USE_LIMIT = 0.9;

const max = (a: number | null, b: unknown) => (typeof b === "number" ? Math.max(a ?? b, b) : a);
const tally = (exhaustion: Record<string, number>, counters: Record<string, number>) => {
  for (const [k, v] of Object.entries(counters))
    if (k.startsWith(CRASH_REASON_PREFIX) && EXHAUSTION.test(k)) {
      const reason = k.slice(CRASH_REASON_PREFIX.length);
      exhaustion[reason] = (exhaustion[reason] ?? 0) + v;
    }
};

/** Why figures of one generator process measured itself (empty: healthy). */
function reasons(
  h: { lag: number | null; cpu: number | null; fds?: number | null; fdLimit?: number | null },
  exhaustion: Record<string, number>,
): string[] {
  const why: string[] = [];
  if (Object.keys(exhaustion).length)
    why.push(
      `users crashed on the generator's fd/port exhaustion (${Object.entries(exhaustion)
        .map(([k, v]) => `${v} x ${k}`)
        .join(", ")})`,
    );
  if (h.lag !== null && h.lag > LAG_LIMIT_MS) why.push(`event-loop lag p99 ${h.lag} ms > ${LAG_LIMIT_MS} ms`);
  // a busy core with a loop still on time is GC threads at work, not a saturated generator
  if (h.cpu !== null && h.cpu > CPU_LIMIT_PCT && h.lag !== null && h.lag > BUSY_LAG_MS)
    why.push(`generator CPU ${h.cpu} % of a core > ${CPU_LIMIT_PCT} %`);
  if (h.fds && h.fdLimit && h.fds >= FD_USE_LIMIT * h.fdLimit)
    why.push(`${h.fds} open files of a limit of ${h.fdLimit} (over ${FD_USE_LIMIT * 100} %)`);
  return why;
}

/**
 * The step's generator health: this process's samples (a local search) and each worker's own gauges in its
 * intervals (`--dist`: cluster/worker-health.ts), every one judged on its own; one limited worker limits the step.
 */
export function generatorHealth(
  intervals: readonly MergedInterval[],
  samples: readonly HealthSample[] = [],
): GeneratorHealth {
  let lag: number | null = samples.length ? Math.max(...samples.map((x) => x.lagP99Ms)) : null;
  let cpu = samples.length ? Math.max(...samples.map((x) => x.cpuPct)) : null;
  const exhaustion: Record<string, number> = {};
  const perNode = new Map<
    string,
    { lag: number | null; cpu: number | null; fds: number | null; fdLimit: number | null; ex: Record<string, number> }
  >();
  for (const m of intervals) {
    for (const [node, g] of Object.entries(m.nodeGauges)) {
      lag = max(lag, g[EVENT_LOOP_LAG_P99]);
      // a worker publishes its health with its intervals; a local node's intervals have none
      if (g[CPU_PCT_GAUGE] === undefined && g[FD_LIMIT_GAUGE] === undefined) continue;
      const w = perNode.get(node) ?? { lag: null, cpu: null, fds: null, fdLimit: null, ex: {} };
      w.lag = max(w.lag, g[EVENT_LOOP_LAG_P99]);
      w.cpu = max(w.cpu, g[CPU_PCT_GAUGE]);
      w.fds = max(w.fds, g[OPEN_FDS]);
      w.fdLimit = max(w.fdLimit, g[FD_LIMIT_GAUGE]);
      perNode.set(node, w);
      cpu = max(cpu, g[CPU_PCT_GAUGE]);
    }
    tally(exhaustion, m.counters);
    for (const [node, c] of Object.entries(m.nodeCounters)) {
      const w = perNode.get(node);
      if (w) tally(w.ex, c);
    }
  }
  const workers: NonNullable<GeneratorHealth["workers"]> = {};
  const why: string[] = [];
  for (const [node, w] of perNode) {
    const r = reasons(w, w.ex);
    workers[node] = { lagP99MaxMs: w.lag, openFdsMax: w.fds, limited: r.length ? r.join("; ") : null };
    if (r.length) why.push(`worker ${node}: ${r.join("; ")}`);
  }
  // this process's own figures (a local search), and a cluster's totals where no worker named its share
  if (!why.length) why.push(...reasons({ lag, cpu: samples.length ? cpu : null }, exhaustion));
  return {
    lagP99MaxMs: lag,
    cpuMaxPct: cpu,
    exhaustion,
    ...(perNode.size ? { workers } : {}),
    limited: why.length ? why.join("; ") : null,
  };
}
