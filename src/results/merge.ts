/**
 * Merging intervals across nodes and over a run. Counters add up, gauges add up over nodes (each node's last value),
 * histograms merge; percentiles always come from merged histograms, never from averaged per-node percentiles.
 */
import { Histogram, timingStats, type TimingStats } from "./histogram.js";
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
  /** Each node's counters. */
  nodeCounters: Record<string, Record<string, number>>;
  /** The merged histograms (empty when read back from a merged row without them: see `stats`). */
  timings: Record<string, Histogram>;
  /** Each timing's statistics in this interval (ms), computed once when merged. */
  stats: Record<string, IntervalStats>;
}

/** A timing's statistics in one merged interval, ms. */
export interface IntervalStats {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** count, p50, p95, p99, max (ms) of each histogram. */
export function intervalStats(timings: Record<string, Histogram>): Record<string, IntervalStats> {
  const out: Record<string, IntervalStats> = {};
  for (const [k, h] of Object.entries(timings)) {
    const s = timingStats(h);
    out[k] = { count: s.count, p50: s.p50, p95: s.p95, p99: s.p99, max: s.max };
  }
  return out;
}

/** Merges one interval's parts (same `t`, one per node). */
export function mergeIntervals(parts: EncodedInterval[]): MergedInterval {
  const first = parts[0];
  if (!first) throw new Error("mergeIntervals needs at least one interval");
  const m: MergedInterval = {
    t: first.t,
    ms: first.ms,
    nodes: [],
    counters: {},
    gauges: {},
    nodeGauges: {},
    nodeCounters: {},
    timings: {},
    stats: {},
  };
  for (const p of parts) {
    if (p.t !== m.t) throw new Error(`cannot merge intervals of different times (${m.t} and ${p.t})`);
    m.nodes.push(p.node);
    for (const [k, v] of Object.entries(p.c)) m.counters[k] = (m.counters[k] ?? 0) + v;
    for (const [k, v] of Object.entries(p.g)) m.gauges[k] = (m.gauges[k] ?? 0) + v;
    m.nodeGauges[p.node] = { ...p.g };
    m.nodeCounters[p.node] = { ...p.c };
    for (const [k, b64] of Object.entries(p.h)) (m.timings[k] ??= new Histogram()).addEncoded(b64);
  }
  m.stats = intervalStats(m.timings);
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

/** A run's totals as stored: time span, counters, gauge last/min/max, encoded histograms. */
export interface EncodedTotals {
  firstT: number;
  endT: number;
  c: Record<string, number>;
  g: Record<string, { last: number; min: number; max: number }>;
  h: Record<string, string>;
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
      let mine = this.timings.get(k);
      if (!mine) this.timings.set(k, (mine = new Histogram()));
      mine.add(h);
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

  /** The totals in a form the store keeps with the run's end (histograms encoded), read back by `decode`. */
  encode(): EncodedTotals {
    const h: Record<string, string> = {};
    for (const [k, x] of this.timings) h[k] = x.encode();
    return {
      firstT: Number.isFinite(this.firstT) ? this.firstT : 0,
      endT: Number.isFinite(this.endT) ? this.endT : 0,
      c: Object.fromEntries(this.counters),
      g: Object.fromEntries(this.gauges),
      h,
    };
  }

  /** Totals stored by `encode`. */
  static decode(e: EncodedTotals): RunTotals {
    const t = new RunTotals();
    if (e.endT > e.firstT) {
      t.firstT = e.firstT;
      t.endT = e.endT;
    }
    for (const [k, v] of Object.entries(e.c)) t.counters.set(k, v);
    for (const [k, v] of Object.entries(e.g)) t.gauges.set(k, { ...v });
    for (const [k, b64] of Object.entries(e.h)) t.timings.set(k, Histogram.decode(b64));
    return t;
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
