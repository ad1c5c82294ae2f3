/** The telemetry bridge: the one place that turns core events into metric names and sends them to a sink. */
import type { Telemetry } from "../telemetry.js";
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

// `metric` events (XMPP helpers, scenarios' `ctx.metrics`) pass through under their own names; user and scenario
// events become the `users.*` and `scenario.*` metrics of names.ts; once a second the users-running gauge and the
// process gauges are sent. `users.running` also leaves on each change, at most every RUNNING_MIN_GAP_MS with the last
// value always sent: sampled only once a second, a run shorter than the sampling gap was seen as 0 throughout; sent
// on change, StatsD holds each value until the next, so the peak of any plateau longer than its 1 s flush reaches
// Graphite.
/** Subscribes to a node's telemetry and sends every measurement it carries to the sink. */
export class MetricsBridge {
  private running = 0;
  private lastSentRunning: number | undefined;
  private lastSentAtMs = -Infinity;
  private pendingRunning: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly minGapMs: number;
  private readonly offs: Array<() => void>;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly o: BridgeOptions) {
    const t = o.telemetry;
    const sink = o.sink;
    this.minGapMs = o.runningMinGapMs ?? RUNNING_MIN_GAP_MS;
    const label = "metrics-bridge";
    this.offs = [
      t.on(
        "metric",
        (m) => {
          if (m.kind === "count") sink.count(m.name, m.value);
          else if (m.kind === "timing") sink.timing(m.name, m.value);
          else sink.gauge(m.name, m.value);
        },
        label,
      ),
      t.on(
        "user.started",
        (e) => {
          this.running++;
          sink.count(names.USERS_STARTED, 1);
          sink.timing(names.USERS_START_LAG, e.lagMs);
          this.runningChanged();
        },
        label,
      ),
      t.on(
        "user.stopped",
        (e) => {
          this.running = Math.max(0, this.running - 1);
          // crashed users are counted from user.crashed, which carries the phase
          if (e.reason === "finished") sink.count(names.USERS_FINISHED, 1);
          else if (e.reason === "removed") sink.count(names.USERS_REMOVED, 1);
          this.runningChanged();
        },
        label,
      ),
      t.on("user.crashed", () => sink.count(names.USERS_CRASHED, 1), label),
      // the controller's count is authoritative: it corrects any drift of the event-based one
      t.on(
        "controller.users",
        (e) => {
          this.running = e.running;
          this.runningChanged();
        },
        label,
      ),
      t.on(
        "scenario.init",
        (e) => {
          sink.timing(names.SCENARIO_INIT, e.durationMs);
          if (!e.ok) sink.count(names.SCENARIO_INIT_FAILURES, 1);
        },
        label,
      ),
      t.on("scenario.terminate", (e) => sink.timing(names.SCENARIO_TERMINATE, e.durationMs), label),
    ];
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
    for (const off of this.offs) off();
    this.sendGauges();
  }
}
