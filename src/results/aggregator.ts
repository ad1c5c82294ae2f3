/**
 * `IntervalAggregator`: turns a node's telemetry into one `EncodedInterval` per `results_interval`. It keeps maps and
 * histograms only (no per-event allocation beyond a histogram record) and hands each finished interval to `onInterval`
 * (the local run recorder, or in distributed mode the message to the master).
 */
import { subscribeMeasurements } from "../metrics/measurements.js";
import * as names from "../metrics/names.js";
import type { Telemetry } from "../telemetry.js";
import { Histogram } from "./histogram.js";
import type { EncodedInterval, RunEventRecord } from "./interval.js";

/** Crashed users by phase: `users.crashed.<phase>` (the total stays `users.crashed`). */
export const CRASHED_BY_PHASE_PREFIX = `${names.USERS_CRASHED}.`;

/** Crashed users by reason (users/crash-reason.ts): `crash_reasons.<reason>`, so the store and report keep the table. */
export const CRASH_REASON_PREFIX = "crash_reasons.";

/** What the aggregator listens to and where intervals go. */
export interface AggregatorOptions {
  telemetry: Telemetry;
  node: string;
  intervalMs: number;
  onInterval: (i: EncodedInterval) => void;
  /** Run events (telemetry `run.event`), stamped with the time and this node. */
  onEvent?: (e: RunEventRecord) => void;
  /**
   * `onInterval` or `onEvent` threw (e.g. the store failed): the interval is gone, the aggregator goes on. Without
   * it such an error would escape from the timer and end the process, run and all.
   */
  onError?: (e: unknown) => void;
  /** Clock (tests). */
  now?: () => number;
  /** No timer: the owner calls `tick()` (tests, benchmarks). */
  manual?: boolean;
}

/** Aggregates a node's measurements per interval; see the file comment. */
export class IntervalAggregator {
  private counters = new Map<string, number>();
  private timings = new Map<string, Histogram>();
  private readonly gauges = new Map<string, number>();
  private start: number;
  private readonly now: () => number;
  private readonly offs: Array<() => void>;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private failures = 0;

  constructor(private readonly o: AggregatorOptions) {
    if (!(o.intervalMs > 0)) throw new Error(`intervalMs must be > 0, got ${o.intervalMs}`);
    this.now = o.now ?? Date.now;
    this.start = this.slot(this.now());
    const t = o.telemetry;
    const label = "results-aggregator";
    this.offs = [
      subscribeMeasurements(
        t,
        {
          count: (name, v) => this.count(name, v),
          timing: (name, ms) => this.timing(name, ms),
          gauge: (name, v) => this.gauges.set(name, v),
          running: (n) => this.gauges.set(names.USERS_RUNNING, n),
          crashed: (e) => {
            this.count(CRASHED_BY_PHASE_PREFIX + (e.phase || "unknown"), 1);
            this.count(CRASH_REASON_PREFIX + e.reason, 1);
          },
        },
        label,
      ),
      t.on(
        "run.event",
        (e) =>
          this.deliver(() =>
            o.onEvent?.({
              t: this.now(),
              kind: e.kind,
              node: typeof e.data.node === "string" ? e.data.node : o.node,
              data: e.data,
            }),
          ),
        label,
      ),
    ];
    this.gauges.set(names.USERS_RUNNING, 0);
    if (!o.manual) this.schedule();
  }

  private slot(ms: number): number {
    return Math.floor(ms / this.o.intervalMs) * this.o.intervalMs;
  }

  private schedule(): void {
    const next = this.start + this.o.intervalMs;
    this.timer = setTimeout(
      () => {
        this.tick();
        if (!this.closed) this.schedule();
      },
      Math.max(1, next - this.now()),
    );
    this.timer.unref();
  }

  private count(name: string, v: number): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + v);
  }

  private timing(name: string, ms: number): void {
    let h = this.timings.get(name);
    if (!h) {
      h = new Histogram();
      this.timings.set(name, h);
    }
    h.recordMs(ms);
  }

  /** Ends every interval whose end has passed (one per elapsed slot, empty ones too, so series have no holes). */
  tick(): void {
    const now = this.now();
    while (this.start + this.o.intervalMs <= now) this.emit(this.start + this.o.intervalMs);
  }

  /** Emits the current interval (possibly partial) and starts the next at `nextStart`. */
  private emit(nextStart: number): void {
    const h: Record<string, string> = {};
    for (const [k, hist] of this.timings) h[k] = hist.encode();
    const i: EncodedInterval = {
      v: 1,
      node: this.o.node,
      t: this.start,
      ms: this.o.intervalMs,
      c: Object.fromEntries(this.counters),
      g: Object.fromEntries(this.gauges),
      h,
    };
    this.counters = new Map();
    this.timings = new Map();
    this.start = nextStart;
    this.deliver(() => this.o.onInterval(i));
  }

  /** Hands something to the owner; what it throws goes to `onError`, never up into the timer. */
  private deliver(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.failures++;
      this.o.onError?.(e);
    }
  }

  /** How many intervals or events the owner failed to take (they threw). */
  get failed(): number {
    return this.failures;
  }

  /** Emits the elapsed intervals and the current partial one, then stops listening. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.tick();
    this.closed = true;
    clearTimeout(this.timer);
    for (const off of this.offs) off();
    this.emit(this.start + this.o.intervalMs);
  }
}
