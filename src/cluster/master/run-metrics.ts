/**
 * What the master reads from the results pipeline for a run: the workers' intervals (cluster/results-feed.ts) summed
 * into the run's metrics (the summary's shape: counters and timings from the merged histograms) and each worker's
 * last reported user counts, which a lost worker's entry shows. Status replies carry counts only.
 */
import * as names from "../../metrics/names.js";
import type { EncodedInterval } from "../../results/interval.js";
import { SummaryCollector } from "../../results/summary.js";
import type { ResultsFeed, ResultsSink } from "../results-feed.js";
import type { LastCounts, MergedMetrics } from "./types.js";

/** One run's metrics and per-worker counts, as its intervals arrive. */
export class RunMetrics implements ResultsSink {
  private readonly totals = new SummaryCollector(undefined);
  private readonly last = new Map<string, LastCounts>();
  private bad = 0;
  readonly unfollow: () => void;

  /** Follows the running run's intervals on `feed` (none: a master without a feed sees no metrics). */
  constructor(feed: ResultsFeed | undefined) {
    this.unfollow = feed ? feed.follow(this) : () => {};
  }

  addInterval(i: EncodedInterval): void {
    try {
      this.totals.merge({ counters: i.c, gauges: {}, timings: i.h });
    } catch {
      // a histogram that does not decode: that interval's timings are left out (the recorder reports it too)
      this.bad++;
      return;
    }
    const l = this.last.get(i.node) ?? { started: 0, finished: 0, crashed: 0, removed: 0, running: 0, at_ms: 0 };
    l.started += i.c[names.USERS_STARTED] ?? 0;
    l.finished += i.c[names.USERS_FINISHED] ?? 0;
    l.crashed += i.c[names.USERS_CRASHED] ?? 0;
    l.removed += i.c[names.USERS_REMOVED] ?? 0;
    if (i.t + i.ms >= l.at_ms) {
      l.running = i.g[names.USERS_RUNNING] ?? l.running;
      l.at_ms = i.t + i.ms;
    }
    this.last.set(i.node, l);
  }

  setNodes(): void {
    // every worker's intervals are summed as they come; none is waited for
  }

  /** The run's metrics so far. */
  metrics(): MergedMetrics {
    return this.totals.snapshot();
  }

  /** Intervals left out because they did not decode. */
  get rejected(): number {
    return this.bad;
  }

  /** A worker's user counts as its intervals last reported them (null: none arrived). */
  lastCounts(node: string): LastCounts | null {
    const l = this.last.get(node);
    return l ? { ...l } : null;
  }
}
