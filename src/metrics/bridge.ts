/** The telemetry bridge: the one place that turns core events into metric names and sends them to a sink. */
import type { Telemetry } from "../telemetry.js";
import { subscribeMeasurements } from "./measurements.js";
import * as names from "./names.js";
import type { ProcessSample } from "./process-sampler.js";
import type { MetricSink } from "./sink.js";

/** How often gauges (users running, process health) are sent. */
export const GAUGE_INTERVAL_MS = 1000;
/** `users.running` is also sent on each change, at most this often (the last value always leaves). */
export const RUNNING_MIN_GAP_MS = 100;

/** What the bridge reads and writes. */
export interface BridgeOptions {
  telemetry: Telemetry;
  sink: MetricSink;
  /** Process health, sampled with every gauge tick; none in tests that only check event mapping. */
  sampler?: { sample(): ProcessSample };
  gaugeIntervalMs?: number;
  runningMinGapMs?: number;
}

// Every measurement maps through measurements.ts; once a second the users-running gauge and the process gauges are
// sent. `users.running` also leaves on each change, at most every RUNNING_MIN_GAP_MS with the last value always sent:
// sampled only once a second, a run shorter than the sampling gap was seen as 0 throughout; sent on change, StatsD
// holds each value until the next, so the peak of any plateau longer than its 1 s flush reaches Graphite.
/** Subscribes to a node's telemetry and sends every measurement it carries to the sink. */
export class MetricsBridge {
  private running = 0;
  private lastSentRunning: number | undefined;
  private lastSentAtMs = -Infinity;
  private pendingRunning: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly minGapMs: number;
  private readonly off: () => void;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: BridgeOptions) {
    const sink = o.sink;
    this.minGapMs = o.runningMinGapMs ?? RUNNING_MIN_GAP_MS;
    this.off = subscribeMeasurements(
      o.telemetry,
      {
        count: (name, v) => sink.count(name, v),
        timing: (name, ms) => sink.timing(name, ms),
        gauge: (name, v) => sink.gauge(name, v),
        running: (n) => {
          this.running = n;
          this.runningChanged();
        },
      },
      "metrics-bridge",
    );
    this.timer = setInterval(() => this.sendGauges(), o.gaugeIntervalMs ?? GAUGE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Users running as the bridge counts them. */
  get usersRunning(): number {
    return this.running;
  }

  /** Sends `users.running` now if the gap since the last send allows, else once it does (one timer, last value wins). */
  private runningChanged(): void {
    if (this.closed || this.pendingRunning || this.running === this.lastSentRunning) return;
    const waitMs = this.lastSentAtMs + this.minGapMs - Date.now();
    if (waitMs <= 0) return this.sendRunning();
    this.pendingRunning = setTimeout(() => {
      this.pendingRunning = undefined;
      if (this.running !== this.lastSentRunning) this.sendRunning();
    }, waitMs);
    this.pendingRunning.unref();
  }

  private sendRunning(): void {
    this.o.sink.gauge(names.USERS_RUNNING, this.running);
    this.lastSentRunning = this.running;
    this.lastSentAtMs = Date.now();
  }

  /** Sends the gauges now (the timer calls it once a second). */
  sendGauges(): void {
    const sink = this.o.sink;
    this.sendRunning();
    const p = this.o.sampler?.sample();
    if (!p) return;
    sink.gauge(names.EVENT_LOOP_LAG_P99, p.eventLoopLagP99Ms);
    sink.gauge(names.HEAP_USED, p.heapUsedBytes);
    sink.gauge(names.RSS, p.rssBytes);
    if (p.openFds !== undefined) sink.gauge(names.OPEN_FDS, p.openFds);
  }

  /** Unsubscribes and sends the gauges one last time; the sink stays open (its owner closes it). */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.pendingRunning);
    this.pendingRunning = undefined;
    this.off();
    this.sendGauges();
  }
}
