/**
 * The pool's start scheduler: walks its start plans and calls `start(id, atMs)` for each user on its instant, in
 * instant order across plans, with one timer for the whole pool (never one per waiting user).
 */
import { systemClock, type Clock, type TimerHandle } from "../clock.js";
import type { StartCursor } from "./schedule.js";

/**
 * One event-loop turn of starting users (a scheduler pass plus the work the users it started queued: their promise
 * continuations, I/O, timers, garbage collection) should take about this long. The pass cannot know what a start
 * queues until it ran, so it starts as many users as the last turns' cost per user allows (FIRST_PASS_USERS before
 * any is known), and never runs longer than MAX_PASS_MS itself. So a node starting users at interarrival 0 keeps
 * answering (heartbeats, commands) however much each start costs.
 */
const TURN_TARGET_MS = 40;
const MAX_PASS_MS = 20;
export const FIRST_PASS_USERS = 256;
const MIN_PASS_USERS = 16;
/** Users started between two looks at the clock. */
const CLOCK_EVERY = 16;

export class StartScheduler {
  private readonly cursors: StartCursor[] = [];
  private timer: TimerHandle | undefined;
  private immediate: TimerHandle | undefined;
  /** The last pass that yielded for its budget: when it began and how many it started (0: none measured yet). */
  private lastPass = { startMs: 0, users: 0 };
  /** Estimated cost of one start, pass and queued work together (ms); undefined until a turn was measured. */
  private perUserMs: number | undefined;

  constructor(
    /** Starts one user that was due at `atMs`. */
    private readonly start: (id: number, atMs: number) => void,
    /** Called when every plan is used up or cancelled. */
    private readonly drained: () => void,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Adds a start plan; its users start on their instants, in ID order. */
  add(cursor: StartCursor): void {
    if (cursor.remaining === 0) return;
    this.cursors.push(cursor);
    this.arm(0);
  }

  /** Instant the last planned user starts at, or undefined when nothing is pending. */
  lastPlannedAtMs(): number | undefined {
    let last: number | undefined;
    for (const c of this.cursors) if (c.remaining > 0) last = Math.max(last ?? -Infinity, c.lastAtMs);
    return last;
  }

  /** Planned but not yet started. */
  pendingCount(): number {
    let n = 0;
    for (const c of this.cursors) n += c.remaining;
    return n;
  }

  /** Cancels every pending start; returns how many were cancelled. */
  cancel(): number {
    let n = 0;
    for (const c of this.cursors) n += c.cancel();
    this.cursors.length = 0;
    this.clock.clearTimeout(this.timer);
    this.clock.clearImmediate(this.immediate);
    this.timer = this.immediate = undefined;
    return n;
  }

  private arm(delayMs: number): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (delayMs <= 0) {
      this.immediate ??= this.clock.setImmediate(() => {
        this.immediate = undefined;
        this.tick();
      });
    } else {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.tick();
      }, delayMs);
    }
  }

  /**
   * Starts every due user, yielding when the pass exceeds its budget (what the work queued since the last pass
   * left of the turn's target), then sleeps until the next is due.
   */
  private tick(): void {
    const clock = this.clock;
    const passStart = clock.now();
    const last = this.lastPass;
    if (last.users > 0) {
      // the whole turn since the last pass began: its starts, and what they queued until now
      const cost = (passStart - last.startMs) / last.users;
      this.perUserMs = this.perUserMs === undefined ? cost : 0.5 * this.perUserMs + 0.5 * cost;
      last.users = 0;
    }
    const maxUsers =
      this.perUserMs === undefined
        ? FIRST_PASS_USERS
        : Math.max(MIN_PASS_USERS, Math.floor(TURN_TARGET_MS / this.perUserMs));
    let now = passStart;
    let n = 0;
    for (;;) {
      let best: StartCursor | undefined;
      for (const c of this.cursors) if (c.id !== undefined && (!best || c.atMs < best.atMs)) best = c;
      if (!best) {
        this.cursors.length = 0;
        this.drained();
        return;
      }
      if (best.atMs > now) {
        now = clock.now();
        if (best.atMs > now) {
          // woken early rather than late: a timer fires at its instant or after it, never before
          this.arm(Math.max(1, Math.floor(best.atMs - now)));
          return;
        }
      }
      const id = best.id as number;
      const at = best.atMs;
      best.advance();
      this.start(id, at);
      if (++n >= maxUsers || n % CLOCK_EVERY === 0) {
        now = clock.now();
        if (n >= maxUsers || now - passStart > MAX_PASS_MS) {
          this.lastPass = { startMs: passStart, users: n };
          this.arm(0);
          return;
        }
      }
    }
  }
}
