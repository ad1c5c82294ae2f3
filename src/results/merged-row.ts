/**
 * The stored form of a merged interval (one row per run and time, written by the recorder as soon as every node's
 * part arrived): sums, gauges, per-node counters and gauges, each timing's statistics and its merged histogram. The
 * report reads these rows and never re-merges the nodes' histograms; the per-node rows stay for a crash's leftovers.
 */
import { Histogram } from "./histogram.js";
import type { IntervalStats, MergedInterval } from "./merge.js";

/** See the file comment. */
export interface MergedRow {
  v: 1;
  t: number;
  ms: number;
  nodes: string[];
  c: Record<string, number>;
  g: Record<string, number>;
  nc: Record<string, Record<string, number>>;
  ng: Record<string, Record<string, number>>;
  s: Record<string, IntervalStats>;
  h: Record<string, string>;
}

/** The row of a merged interval. */
export function toMergedRow(m: MergedInterval): MergedRow {
  const h: Record<string, string> = {};
  for (const [k, x] of Object.entries(m.timings)) h[k] = x.encode();
  return {
    v: 1,
    t: m.t,
    ms: m.ms,
    nodes: m.nodes,
    c: m.counters,
    g: m.gauges,
    nc: m.nodeCounters,
    ng: m.nodeGauges,
    s: m.stats,
    h,
  };
}

/** A merged interval from its row; its histograms are decoded only when `withHistograms` (the totals need them). */
export function fromMergedRow(r: MergedRow, withHistograms: boolean): MergedInterval {
  const timings: Record<string, Histogram> = {};
  if (withHistograms) for (const [k, b64] of Object.entries(r.h)) timings[k] = Histogram.decode(b64);
  return {
    t: r.t,
    ms: r.ms,
    nodes: r.nodes,
    counters: r.c,
    gauges: r.g,
    nodeCounters: r.nc,
    nodeGauges: r.ng,
    stats: r.s,
    timings,
  };
}
