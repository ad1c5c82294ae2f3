/**
 * Each worker's user counts as its results intervals last reported them (cluster/results-feed.ts), which a lost
 * worker's entry shows. The run's metrics are not summed here: the node's run recording (results/recorder.ts) merges
 * the same intervals, and every view reads it. Status replies carry counts only.
 */
import * as names from "../../metrics/names.js";
import type { EncodedInterval } from "../../results/interval.js";
import type { ResultsFeed, ResultsSink } from "../results-feed.js";
import type { LastCounts } from "./types.js";

/** One run's per-worker counts, as its intervals arrive. */
export class WorkerCounts implements ResultsSink {
  private readonly last = new Map<string, LastCounts>();
  readonly unfollow: () => void;

  /** Follows the running run's intervals on `feed` (none: a master without a feed knows no counts). */
  constructor(feed: ResultsFeed | undefined) {
    this.unfollow = feed ? feed.follow(this) : () => {};
  }

  addInterval(i: EncodedInterval): void {
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
    // every worker's intervals are counted as they come; none is waited for
  }

  /** A worker's user counts as its intervals last reported them (null: none arrived). */
  lastCounts(node: string): LastCounts | null {
    const l = this.last.get(node);
    return l ? { ...l } : null;
  }
}
