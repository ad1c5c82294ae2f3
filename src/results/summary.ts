/**
 * The shapes of a run's summary metrics (node/run/summary.ts builds them from the run's merged totals): a counter's
 * total, a timing's statistics by results/histogram.ts's rules (a percentile never above the exact max).
 */
import type { TimingStats } from "./histogram.js";

/** A counter's total. */
export interface CounterSummary {
  count: number;
}
/** A timing's distribution, in ms. */
export type TimingSummary = TimingStats;
