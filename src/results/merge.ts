/**
 * Merging intervals across nodes and over a run. Counters add up, gauges add up over nodes (each node's last value),
 * histograms merge; percentiles always come from merged histograms, never from averaged per-node percentiles.
 */
import { decodeHistogram, newHistogram, timingStats, type Histogram, type TimingStats } from "./histogram.js";
import type { EncodedInterval } from "./interval.js";

/** One metric over a whole run (merged over nodes and intervals). */
export type MetricStats =
  | { kind: "counter"; count: number; rate: number }
  | { kind: "gauge"; last: number; min: number; max: number }
  | ({ kind: "timing"; rate: number } & TimingStats);

/** The cluster's view of one interval: every node's interval merged. */
export interface MergedInterval {
  t: number;
  ms: number;
  nodes: string[];
  counters: Record<string, number>;
  gauges: Record<string, number>;
  /** Each node's gauges (users running per node). */
  nodeGauges: Record<string, Record<string, number>>;
  timings: Record<string, Histogram>;
}

/** Merges one interval's parts (same `t`, one per node). */
export function mergeIntervals(parts: EncodedInterval[]): MergedInterval {
  const first = parts[0];
  if (!first) throw new Error("mergeIntervals needs at least one interval");
  const m: MergedInterval = { t: first.t, ms: first.ms, nodes: [], counters: {}, gauges: {}, nodeGauges: {}, timings: {} };
  for (const p of parts) {
    if (p.t !== m.t) throw new Error(`cannot merge intervals of different times (${m.t} and ${p.t})`);
    m.nodes.push(p.node);
    for (const [k, v] of Object.entries(p.c)) m.counters[k] = (m.counters[k] ?? 0) + v;
    for (const [k, v] of Object.entries(p.g)) m.gauges[k] = (m.gauges[k] ?? 0) + v;
    m.nodeGauges[p.node] = { ...p.g };
    for (const [k, b64] of Object.entries(p.h)) (m.timings[k] ??= newHistogram()).add(decodeHistogram(b64));
  }
  return m;
}

/** Groups intervals by `t` and merges each group; the result is sorted by time. */
export function mergeByTime(all: EncodedInterval[]): MergedInterval[] {
  const byT = new Map<number, EncodedInterval[]>();
  for (const i of all) {
    const l = byT.get(i.t);
    if (l) l.push(i);
    else byT.set(i.t, [i]);
  }
  return [...byT.keys()].sort((a, b) => a - b).map((t) => mergeIntervals(byT.get(t) as EncodedInterval[]));
}

/** A run's totals, fed interval by interval (merged or per node), read as a table of every metric. */
export class RunTotals {
  private readonly counters = new Map<string, number>();
  private readonly timings = new Map<string, Histogram>();
  private readonly gauges = new Map<string, { last: number; min: number; max: number }>();
  private firstT = Infinity;
  private endT = -Infinity;

  /** Adds a merged interval (gauges: the cluster-wide value of that interval). */
  add(m: MergedInterval): void {
    this.firstT = Math.min(this.firstT, m.t);
    this.endT = Math.max(this.endT, m.t + m.ms);
    for (const [k, v] of Object.entries(m.counters)) this.counters.set(k, (this.counters.get(k) ?? 0) + v);
    for (const [k, h] of Object.entries(m.timings)) {
      const mine = this.timings.get(k);
      if (mine) mine.add(h);
      else {
        const c = newHistogram();
        c.add(h);
        this.timings.set(k, c);
      }
    }
    for (const [k, v] of Object.entries(m.gauges)) {
      const g = this.gauges.get(k);
      if (!g) this.gauges.set(k, { last: v, min: v, max: v });
      else {
        g.last = v;
        g.min = Math.min(g.min, v);
        g.max = Math.max(g.max, v);
      }
    }
  }

  /** Seconds covered by the intervals added (0 when none). */
  get durationS(): number {
    return this.endT > this.firstT ? (this.endT - this.firstT) / 1000 : 0;
  }

  /** A timing's merged histogram (undefined when never recorded). */
  histogram(name: string): Histogram | undefined {
    return this.timings.get(name);
  }

  /** Every metric with its statistics, sorted by name; rates are per second over the run's intervals. */
  table(): Record<string, MetricStats> {
    const s = this.durationS || 1;
    const out: Record<string, MetricStats> = {};
    const round = (x: number) => Math.round(x * 100) / 100;
    for (const [k, v] of this.counters) out[k] = { kind: "counter", count: v, rate: round(v / s) };
    for (const [k, g] of this.gauges) out[k] ??= { kind: "gauge", ...g };
    for (const [k, h] of this.timings) out[k] = { kind: "timing", rate: round(h.totalCount / s), ...timingStats(h) };
    return Object.fromEntries(Object.entries(out).sort((a, b) => a[0].localeCompare(b[0])));
  }
}
