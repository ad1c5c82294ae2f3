/**
 * One node's pacer for one throttle: waiters are released at evenly spaced instants computed from absolute time, so
 * the long-run rate is exact and a late timer catches up rather than losing slots; idle time earns no burst.
 */
import { systemClock, type Clock, type TimerHandle } from "../clock.js";
import { MAX_TIMER_MS } from "../config/formats.js";
import { UsageError } from "../errors.js";
import type { GradualChange, ThrottleConfig } from "../scenario/throttle-api.js";

const DEFAULT_INTERVAL_MS = 60_000;

/** Normalizes a config to a rate per ms (0 = paused) with its interval for display. */
export function ratePerMs(cfg: ThrottleConfig | number): { rate: number; intervalMs: number; perMs: number } {
  const c: ThrottleConfig = typeof cfg === "number" ? { rate: cfg } : cfg;
  if (typeof c !== "object" || c === null)
    throw new UsageError("a throttle needs {rate, interval} or {interarrival}", "e.g. {rate: 1000, interval: 1000}");
  if (c.interarrival !== undefined) {
    if (typeof c.interarrival !== "number" || !(c.interarrival >= 0))
      throw new UsageError(
        `interarrival must be ms >= 0, got ${JSON.stringify(c.interarrival)}`,
        "e.g. {interarrival: 10}",
      );
    if (c.interarrival === Infinity) return { rate: 0, intervalMs: DEFAULT_INTERVAL_MS, perMs: 0 };
    return {
      rate: c.interarrival === 0 ? Infinity : DEFAULT_INTERVAL_MS / c.interarrival,
      intervalMs: DEFAULT_INTERVAL_MS,
      perMs: c.interarrival === 0 ? Infinity : 1 / c.interarrival,
    };
  }
  const rate = c.rate;
  const intervalMs = c.interval ?? DEFAULT_INTERVAL_MS;
  // Node's timers hold at most 2^31-1 ms: a longer interval would pace at once instead of over the interval
  if (typeof intervalMs === "number" && intervalMs > MAX_TIMER_MS)
    throw new UsageError(
      `interval must be at most ${MAX_TIMER_MS} ms (about 24 days), got ${intervalMs}`,
      "e.g. {rate: 1000, interval: 1000}",
    );
  if (typeof rate !== "number" || !(rate >= 0))
    throw new UsageError(
      `rate must be a number >= 0, got ${JSON.stringify(rate)}`,
      "e.g. {rate: 1000, interval: 1000}",
    );
  if (typeof intervalMs !== "number" || !(intervalMs > 0))
    throw new UsageError(
      `interval must be ms > 0, got ${JSON.stringify(c.interval)}`,
      "e.g. {rate: 1000, interval: 1000}",
    );
  return { rate, intervalMs, perMs: rate / intervalMs };
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** One node's pacer for one throttle. */
export class LocalThrottle {
  private queue: Waiter[] = [];
  private head = 0;
  private nextAtMs = 0;
  private timer: TimerHandle | undefined;
  private gradual: TimerHandle | undefined;
  paused = false;
  /** Actions released so far on this node. */
  released = 0;

  constructor(
    readonly name: string,
    /** Cluster-wide actions per ms (Infinity = unlimited, 0 = paused). */
    public clusterPerMs: number,
    public intervalMs: number,
    private fraction: number,
    private readonly clock: Clock = systemClock,
  ) {}

  /** This node's rate (actions per ms). */
  get localPerMs(): number {
    return this.paused ? 0 : this.clusterPerMs * this.fraction;
  }

  setFraction(f: number): void {
    this.fraction = f;
    this.pump();
  }
  setRate(perMs: number, intervalMs: number): void {
    this.clusterPerMs = perMs;
    this.intervalMs = intervalMs;
    this.pump();
  }
  setPaused(p: boolean): void {
    this.paused = p;
    this.pump();
  }

  /** Steps the rate from `from` to `to` per interval, locally: no message per step. */
  gradually(g: GradualChange): void {
    this.clock.clearInterval(this.gradual);
    const steps = Math.max(1, Math.round(g.steps ?? Math.max(1, g.overMs / 100)));
    const iv = g.interval ?? this.intervalMs;
    let i = 0;
    this.setRate(g.from / iv, iv);
    this.gradual = this.clock.setInterval(
      () => {
        i++;
        this.setRate((g.from + ((g.to - g.from) * i) / steps) / iv, iv);
        if (i >= steps) {
          this.clock.clearInterval(this.gradual);
          this.gradual = undefined;
        }
      },
      g.overMs / steps,
      { unref: true },
    );
  }

  wait(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    const now = this.clock.now();
    const per = this.localPerMs;
    if (this.head === this.queue.length && per > 0) {
      if (per === Infinity) {
        this.released++;
        return Promise.resolve();
      }
      // idle time earns no burst: the next slot is never earlier than now
      const gap = 1 / per;
      if (this.nextAtMs < now) this.nextAtMs = now;
      if (this.nextAtMs <= now) {
        this.nextAtMs += gap;
        this.released++;
        return Promise.resolve();
      }
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal };
      if (signal) {
        w.onAbort = () => {
          const i = this.queue.indexOf(w, this.head);
          if (i >= 0) this.queue.splice(i, 1);
          reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
        };
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      this.queue.push(w);
      // a waiter joining a queue keeps its pace; only the first one after idle time starts it
      if (this.queue.length - this.head === 1) this.pump();
    });
  }

  /**
   * Releases every waiter whose slot has come, then sleeps until the next slot. A late timer (`fromTimer`) catches
   * up every slot it missed; any other call (a rate change, resume, a first waiter) starts from now: no burst.
   */
  private pump(fromTimer = false): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const per = this.localPerMs;
    if (this.head === this.queue.length || per <= 0) return this.compact();
    const now = this.clock.now();
    if (per === Infinity) {
      while (this.head < this.queue.length) this.release();
      return this.compact();
    }
    const gap = 1 / per;
    if (!fromTimer && this.nextAtMs < now) this.nextAtMs = now;
    while (this.head < this.queue.length && this.nextAtMs <= now) {
      this.nextAtMs += gap;
      this.release();
    }
    this.compact();
    if (this.head < this.queue.length) {
      this.timer = this.clock.setTimeout(() => this.pump(true), Math.max(1, Math.ceil(this.nextAtMs - now)));
    }
  }

  private release(): void {
    const w = this.queue[this.head++]!;
    if (w.signal && w.onAbort) w.signal.removeEventListener("abort", w.onAbort);
    this.released++;
    w.resolve();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** How many callers wait. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Stops: every waiter is rejected with `why`. */
  stop(why: Error): void {
    this.clock.clearTimeout(this.timer);
    this.clock.clearInterval(this.gradual);
    this.timer = this.gradual = undefined;
    const q = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    for (const w of q) {
      if (w.signal && w.onAbort) w.signal.removeEventListener("abort", w.onAbort);
      w.reject(why);
    }
  }
}
