/**
 * The timers behind `ctx.sleep`: one clock timer per distinct duration instead of one per sleeping user. Sleeps of
 * one duration end in the order they began (the clock is monotonic), so each duration keeps a FIFO of entries and
 * one timer armed for its head. A held user then costs a small entry (its deadline and its promise's two functions)
 * instead of a Node `Timeout`, its callback closure and context, and the set that tracked them (~400 bytes per user,
 * docs/memory.md).
 */
import type { Clock, TimerHandle } from "../clock.js";

/** One pending sleep; `resolve` and `reject` are dropped once it ended (resolved or cancelled). */
export interface SleepEntry {
  at: number;
  /** @internal */
  lane: Lane;
  resolve: (() => void) | null;
  reject: ((e: Error) => void) | null;
}

/** The sleeps of one duration, oldest first. */
/** @internal */
export interface Lane {
  ms: number;
  entries: SleepEntry[];
  head: number;
  /** Entries not yet ended: the lane and its timer go away at 0. */
  live: number;
  timer: TimerHandle | undefined;
}

/** The sleeps of one user pool. */
export class SleepQueue {
  private readonly lanes = new Map<number, Lane>();

  constructor(private readonly clock: Clock) {}

  /** Calls `resolve` after `ms` (Node's rule: below 1 ms, or too long for a timer, means 1 ms), unless cancelled first. */
  add(ms: number, resolve: () => void, reject: (e: Error) => void): SleepEntry {
    const d = ms >= 1 && ms <= 2 ** 31 - 1 ? ms : 1;
    let lane = this.lanes.get(d);
    if (!lane) {
      lane = { ms: d, entries: [], head: 0, live: 0, timer: undefined };
      this.lanes.set(d, lane);
    }
    const entry: SleepEntry = { at: this.clock.now() + d, lane, resolve, reject };
    lane.entries.push(entry);
    lane.live++;
    if (lane.timer === undefined) this.arm(lane, d);
    return entry;
  }

  /** Ends `entry` with `err` (rejecting its promise) if it is still pending; the lane drops it lazily. */
  cancel(entry: SleepEntry, err: Error): void {
    const reject = entry.reject;
    if (!reject) return;
    entry.resolve = entry.reject = null;
    if (--entry.lane.live === 0) this.drop(entry.lane);
    reject(err);
  }

  /** Pending sleeps (for tests and checks). */
  get size(): number {
    let n = 0;
    for (const l of this.lanes.values()) n += l.live;
    return n;
  }

  private arm(lane: Lane, ms: number): void {
    lane.timer = this.clock.setTimeout(() => this.fire(lane), ms);
  }

  private drop(lane: Lane): void {
    this.clock.clearTimeout(lane.timer);
    lane.timer = undefined;
    lane.entries = [];
    lane.head = 0;
    if (this.lanes.get(lane.ms) === lane) this.lanes.delete(lane.ms);
  }

  /** Ends every entry due now, in order, then re-arms for the next one. */
  private fire(lane: Lane): void {
    lane.timer = undefined;
    const now = this.clock.now();
    const es = lane.entries;
    while (lane.head < es.length) {
      const e = es[lane.head]!;
      if (e.resolve && e.at > now) break;
      lane.head++;
      const resolve = e.resolve;
      if (!resolve) continue;
      e.resolve = e.reject = null;
      lane.live--;
      resolve();
    }
    if (lane.live === 0) return this.drop(lane);
    if (lane.head > 1024 && lane.head * 2 > es.length) {
      lane.entries = es.slice(lane.head);
      lane.head = 0;
    }
    const next = lane.entries[lane.head]!;
    this.arm(lane, Math.max(1, Math.ceil(next.at - now)));
  }
}
