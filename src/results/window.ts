/**
 * Windowed thresholds (`xmpp.connection.p99<1000 over 30s`): judged on every sliding window of the run's merged
 * intervals, each window's statistics computed from the window's merged histograms and counts (RunTotals), never by
 * averaging per-interval percentiles. A threshold fails when any full window breaches; a run shorter than its window
 * is judged on everything it recorded.
 */
import { RunTotals, type MergedInterval, type MetricStats } from "./merge.js";
import { percentileMs } from "./histogram.js";
import { evaluateThresholds, type Threshold, type ThresholdResult } from "./thresholds.js";

/** A window's totals: the merged intervals that end within `windowMs` of `endT`. */
function windowTotals(intervals: readonly MergedInterval[], endT: number, windowMs: number): RunTotals {
  const totals = new RunTotals();
  for (const m of intervals) if (m.t + m.ms > endT - windowMs && m.t + m.ms <= endT) totals.add(m);
  return totals;
}

/**
 * Evaluates one threshold on a RunTotals (percentiles the table lacks from its histograms); `extra` adds figures from
 * beside the run's intervals (the server under test's, results/sut-series.ts `sutTable`).
 */
export function judgeOn(t: Threshold, totals: RunTotals, extra: Record<string, MetricStats> = {}): ThresholdResult {
  return evaluateThresholds([t], { ...totals.table(), ...extra }, (metric, p) => {
    const h = totals.histogram(metric);
    return h ? percentileMs(h, p) : undefined;
  })[0] as ThresholdResult;
}

/** Feeds merged intervals in time order; judges each windowed threshold on the window ending at each interval. */
export class WindowJudge {
  private readonly intervals: MergedInterval[] = [];
  private readonly maxWindow: number;
  private firstT = Infinity;
  /** The first breach of each threshold (by index), kept: a later good window does not undo it. */
  private readonly breaches = new Map<number, ThresholdResult>();
  private readonly lastOk = new Map<number, ThresholdResult>();

  constructor(private readonly thresholds: readonly Threshold[]) {
    this.maxWindow = Math.max(0, ...thresholds.map((t) => t.windowMs ?? 0));
  }

  /** Adds a merged interval; returns the thresholds that breached for the first time on the window it ends. */
  add(m: MergedInterval): ThresholdResult[] {
    this.firstT = Math.min(this.firstT, m.t);
    this.intervals.push(m);
    const endT = m.t + m.ms;
    while (this.intervals.length && (this.intervals[0] as MergedInterval).t + m.ms <= endT - this.maxWindow)
      this.intervals.shift();
    const fresh: ThresholdResult[] = [];
    this.thresholds.forEach((t, i) => {
      const w = t.windowMs ?? 0;
      // a window is judged once the run has covered it whole
      if (!w || endT - this.firstT < w) return;
      const r = this.window(t, windowTotals(this.intervals, endT, w), endT);
      if (r.ok) this.lastOk.set(i, r);
      else if (r.status !== "no_metric" && !this.breaches.has(i)) {
        this.breaches.set(i, r);
        fresh.push(r);
      }
    });
    return fresh;
  }

  /**
   * Each threshold's verdict: its first breaching window, else its last good one; with no full window (a run shorter
   * than it), judged on `whole` (the run's totals).
   */
  results(whole: RunTotals): ThresholdResult[] {
    return this.thresholds.map((t, i) => {
      const r = this.breaches.get(i) ?? this.lastOk.get(i);
      if (r) return r;
      const all = judgeOn(t, whole);
      return { ...all, message: `${all.message} (the run is shorter than ${t.windowMs! / 1000} s: judged whole)` };
    });
  }

  private window(t: Threshold, totals: RunTotals, endT: number): ThresholdResult {
    const r = judgeOn(t, totals);
    const at = `${t.windowMs! / 1000} s window ending +${Math.round((endT - this.firstT) / 1000)} s`;
    return { ...r, message: r.ok ? `${r.message} on every ${t.windowMs! / 1000} s window` : `${r.message} (${at})` };
  }
}
