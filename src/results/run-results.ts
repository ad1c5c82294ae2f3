/** A stored run read back as results: merged intervals, totals per metric, per-node figures, events, thresholds. */
import { percentileMs } from "./histogram.js";
import type { RunEventRecord } from "./interval.js";
import { mergeByTime, RunTotals, type MergedInterval, type MetricStats } from "./merge.js";
import { fromMergedRow } from "./merged-row.js";
import type { RunStore } from "./store.js";
import type { RunRecord } from "./store-types.js";
import type { ThresholdResult } from "./thresholds.js";
import { sutTable, type SutSample } from "./sut-series.js";

/** One node's figures over the run. */
export interface NodeFigures {
  intervals: number;
  /** End of its last interval, epoch ms. */
  lastT: number;
  counters: Record<string, number>;
  /** Its gauges in its last interval. */
  gauges: Record<string, number>;
}

/** Everything the report, `runs show` and `runs compare` need about one run. */
export interface RunResults {
  run: RunRecord;
  /** Merged intervals by time (their `stats` hold each timing's percentiles; `timings` may be empty). */
  intervals: MergedInterval[];
  table: Record<string, MetricStats>;
  perNode: Record<string, NodeFigures>;
  events: RunEventRecord[];
  thresholds: ThresholdResult[];
  totals: RunTotals;
  /** The server under test's samplings (results/sut-series.ts); their sut.* gauges are in `table` too. */
  sut: SutSample[];
  /** Any percentile of a timing over the whole run (ms). */
  percentile(metric: string, p: number): number | undefined;
}

/**
 * Reads a run: the merged rows the recorder wrote, plus the nodes' intervals of any time it did not merge (its
 * recorder died); the totals stored at the end, or (a run that did not end) merged here from the intervals.
 */
export function readRunResults(store: RunStore, ref: string): RunResults {
  const run = store.getRun(ref);
  const stored = store.totals(run.id);
  const leftovers = mergeByTime(store.unmergedIntervals(run.id));
  const intervals = [
    ...store.mergedRows(run.id, stored === undefined).map((r) => fromMergedRow(r, stored === undefined)),
    ...leftovers,
  ].sort((a, b) => a.t - b.t);
  let totals: RunTotals;
  if (stored) totals = RunTotals.decode(stored);
  else {
    totals = new RunTotals();
    for (const m of intervals) totals.add(m);
  }
  const perNode: Record<string, NodeFigures> = {};
  for (const m of intervals) {
    for (const node of m.nodes) {
      const n = (perNode[node] ??= { intervals: 0, lastT: 0, counters: {}, gauges: {} });
      n.intervals++;
      n.lastT = Math.max(n.lastT, m.t + m.ms);
      for (const [k, v] of Object.entries(m.nodeCounters[node] ?? {})) n.counters[k] = (n.counters[k] ?? 0) + v;
      n.gauges = m.nodeGauges[node] ?? n.gauges;
    }
  }
  const sut = store.sutSamples(run.id);
  const durationS = ((run.endedAt ?? intervals.at(-1)?.t ?? run.startedAt) - run.startedAt) / 1000;
  return {
    run,
    intervals,
    table: { ...totals.table(), ...sutTable(sut, durationS) },
    sut,
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
