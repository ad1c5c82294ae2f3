/**
 * Per-interval results for the live view: keeps the intervals the nodes send (src/results, one per node per
 * interval), and merges the newest complete one (every node's part, or a grace period passed) so the charts show
 * this second's percentiles from merged histograms and this second's counts, not the run's so far.
 */
import type { EncodedInterval } from "../../results/interval.js";
import { mergeIntervals } from "../../results/merge.js";

/** One merged interval as the live frame uses it. */
export interface LiveInterval {
  t: number;
  /** Counters per second. */
  rates: Record<string, number>;
  /** p50/p95/p99 (ms) of each timing in the interval. */
  timings: Record<string, { p50: number; p95: number; p99: number }>;
}

/** How long after its end an interval is merged even if a node's part is missing. */
const GRACE_MS = 1500;
/** Groups kept (older ones are dropped unmerged). */
const KEEP = 10;

/** See the file comment. */
export class IntervalWindow {
  private readonly groups = new Map<number, EncodedInterval[]>();
  private last: LiveInterval | undefined;

  /** `nodes()`: how many nodes send intervals (a group with that many parts is complete). */
  constructor(private readonly nodes: () => number = () => Infinity) {}

  add(i: EncodedInterval): void {
    const g = this.groups.get(i.t);
    if (g) g.push(i);
    else this.groups.set(i.t, [i]);
    if (this.groups.size > KEEP) this.groups.delete(Math.min(...this.groups.keys()));
  }

  /** The newest complete interval at `nowMs` (merged once), or the last one merged. */
  latest(nowMs: number): LiveInterval | undefined {
    const ready = [...this.groups.entries()]
      .filter(([t, parts]) => parts.length >= this.nodes() || nowMs >= t + (parts[0]?.ms ?? 0) + GRACE_MS)
      .sort((a, b) => b[0] - a[0]);
    const newest = ready[0];
    if (newest && (!this.last || newest[0] > this.last.t)) {
      const m = mergeIntervals(newest[1]);
      const s = m.ms / 1000;
      this.last = {
        t: m.t,
        rates: Object.fromEntries(Object.entries(m.counters).map(([k, v]) => [k, Math.round((v / s) * 100) / 100])),
        timings: Object.fromEntries(
          Object.entries(m.stats).map(([k, v]) => [k, { p50: v.p50, p95: v.p95, p99: v.p99 }]),
        ),
      };
    }
    for (const [t] of ready) if (this.last && t <= this.last.t) this.groups.delete(t);
    return this.last;
  }

  clear(): void {
    this.groups.clear();
    this.last = undefined;
  }
}
