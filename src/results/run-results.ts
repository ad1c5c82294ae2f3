/** A stored run read back as results: merged intervals, totals per metric, events, thresholds. */
import type { MergedInterval } from "./merge.js";
import { mergeByTime, RunTotals, type MetricStats } from "./merge.js";
import { percentileMs } from "./histogram.js";
import type { RunEventRecord } from "./interval.js";
import type { RunRecord, RunStore } from "./store.js";
import type { ThresholdResult } from "./thresholds.js";

/** Everything the report, `runs show` and `runs compare` need about one run. */
export interface RunResults {
  run: RunRecord;
  intervals: MergedInterval[];
  table: Record<string, MetricStats>;
  /** Per node: its last gauges and counter totals. */
  perNode: Record<string, { intervals: number; lastT: number; counters: Record<string, number>; gauges: Record<string, number> }>;
  events: RunEventRecord[];
  thresholds: ThresholdResult[];
  totals: RunTotals;
  /** Any percentile of a timing over the whole run (ms). */
  percentile(metric: string, p: number): number | undefined;
}

/** Reads a run and merges its intervals (percentiles from merged histograms). */
export function readRunResults(store: RunStore, ref: string): RunResults {
  const run = store.getRun(ref);
  const raw = store.intervals(run.id);
  const perNode: RunResults["perNode"] = {};
  for (const i of raw) {
    const n = (perNode[i.node] ??= { intervals: 0, lastT: 0, counters: {}, gauges: {} });
    n.intervals++;
    n.lastT = Math.max(n.lastT, i.t + i.ms);
    for (const [k, v] of Object.entries(i.c)) n.counters[k] = (n.counters[k] ?? 0) + v;
    n.gauges = { ...i.g };
  }
  const intervals = mergeByTime(raw);
  const totals = new RunTotals();
  for (const m of intervals) totals.add(m);
  return {
    run,
    intervals,
    table: totals.table(),
    perNode,
    events: store.events(run.id),
    thresholds: store.thresholds(run.id),
    totals,
    percentile: (metric, p) => {
      const h = totals.histogram(metric);
      return h ? percentileMs(h, p) : undefined;
    },
  };
}
