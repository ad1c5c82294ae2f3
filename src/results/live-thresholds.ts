/**
 * A run's thresholds judged while it runs: whole-run ones on the live totals, windowed ones (`over 30s`) on each
 * window of merged intervals. The recording asks after each merge whether an abortable threshold breached (`abort`, or
 * every threshold with `--abort-on-fail`), and at the end for every threshold's result.
 */
import type { MergedInterval, MetricStats, RunTotals } from "./merge.js";
import { percentileMs } from "./histogram.js";
import { evaluateThresholds, type Threshold, type ThresholdResult } from "./thresholds.js";
import { WindowJudge } from "./window.js";

/**
 * Whole-run thresholds evaluated on `table` (the totals' table, plus figures from beside the run such as the server
 * under test's); percentiles the table lacks come from the totals' histograms.
 */
function judgeWhole(
  ts: readonly Threshold[],
  totals: RunTotals,
  table: Record<string, MetricStats>,
): ThresholdResult[] {
  return evaluateThresholds(ts, table, (metric, p) => {
    const h = totals.histogram(metric);
    return h ? percentileMs(h, p) : undefined;
  });
}

/** See the file comment. */
export class LiveThresholds {
  private readonly windowed: Threshold[];
  private readonly judge: WindowJudge;
  /** Windowed thresholds that breached on the intervals merged since the last `breaches`. */
  private fresh: ThresholdResult[] = [];
  private aborted = false;

  constructor(
    private readonly thresholds: readonly Threshold[],
    private readonly abortOnFail: boolean,
  ) {
    this.windowed = thresholds.filter((t) => t.windowMs);
    this.judge = new WindowJudge(this.windowed);
  }

  /** A merged interval, in time order. */
  add(m: MergedInterval): void {
    this.fresh.push(...this.judge.add(m));
  }

  /**
   * The abortable thresholds that breached since the last call, once per run: after the first non-empty answer the
   * run is aborting and later calls answer nothing.
   */
  breaches(totals: RunTotals, table: Record<string, MetricStats> = totals.table()): ThresholdResult[] {
    const abortable = this.abortOnFail ? this.thresholds : this.thresholds.filter((t) => t.abort);
    const fresh = this.fresh;
    this.fresh = [];
    if (this.aborted || !abortable.length) return [];
    const breached = [
      ...judgeWhole(
        abortable.filter((t) => !t.windowMs),
        totals,
        table,
      ).filter((r) => !r.ok && r.actual !== null),
      ...fresh.filter((r) => abortable.some((t) => t.expr === r.expr)),
    ];
    if (breached.length) this.aborted = true;
    return breached;
  }

  /** Every threshold judged on the run so far, in the order given: whole-run ones on `totals`, windowed ones by window. */
  results(totals: RunTotals, table: Record<string, MetricStats> = totals.table()): ThresholdResult[] {
    const whole = judgeWhole(
      this.thresholds.filter((t) => !t.windowMs),
      totals,
      table,
    );
    const win = this.judge.results(totals);
    return this.thresholds.map((t) => (t.windowMs ? win[this.windowed.indexOf(t)] : whole.shift()) as ThresholdResult);
  }
}
