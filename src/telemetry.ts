/** The in-process event bus: the core emits typed events; metrics, summaries and logs subscribe. */
import { createLogger, type Logger } from "./log.js";

/** Why a user ended. */
export type UserEndReason = "finished" | "removed" | "crashed";

/** Every event and its payload. */
export interface TelemetryEvents {
  "user.started": { id: number; lagMs: number };
  "user.stopped": { id: number; reason: UserEndReason };
  "user.crashed": { id: number; phase: string; reason: string; message: string };
  "scenario.init": { scenario: string; durationMs: number; ok: boolean; message?: string };
  "scenario.terminate": { scenario: string; durationMs: number; ok: boolean; message?: string };
  "controller.state": { state: string; scenario: string | null };
  "controller.users": { running: number; started: number; finished: number; crashed: number; removed: number };
  /** A run event: do, add, remove, stop, settings; the annotations source. */
  "run.event": {
    kind: "do" | "add" | "remove" | "stop" | "settings" | "node_up" | "node_down" | "node_left";
    data: Record<string, unknown>;
  };
  /** A worker entered a cluster run (the run's id is the master's): labels such as Prometheus's `run_id` follow it. */
  "run.joined": { run_id: string; scenario: string };
  /** A measurement from the core, the XMPP helpers or a scenario's `ctx.metrics`. */
  metric: { kind: "count" | "timing" | "gauge"; name: string; value: number };
}

export type TelemetryName = keyof TelemetryEvents;
type Handler<K extends TelemetryName> = (payload: TelemetryEvents[K]) => void;

/** The counter a throwing subscriber increments (relative to the node prefix, like every metric name). */
export const SUBSCRIBER_FAILURES_METRIC = "telemetry.subscriber_failures";

/** How the bus reports a subscriber that throws. */
export interface TelemetryOptions {
  /** Where the first failure of each subscriber is logged; default: warn-level JSON lines on stderr. */
  log?: Logger;
}

/** One subscription: the handler, the event it listens to, who it is (for the log line), how often it threw. */
interface Subscription {
  fn: Handler<never>;
  event: TelemetryName;
  subscriber: string;
  failures: number;
}

/** Failures of one subscriber, as `failures()` lists them. */
export interface SubscriberFailure {
  event: TelemetryName;
  subscriber: string;
  count: number;
  /** The first error's message. */
  message: string;
}

/**
 * A synchronous, typed event bus. Emitting an event nobody listens to costs one map lookup. A subscriber that throws
 * never breaks the emitter or the other subscribers: its first failure is logged with the event and the subscriber,
 * every failure is counted (`subscriberFailures`, `failures()`, and the `telemetry.subscriber_failures` metric).
 */
export class Telemetry {
  private readonly handlers = new Map<TelemetryName, Subscription[]>();
  private readonly failed: SubscriberFailure[] = [];
  private failureCount = 0;
  private reporting = false;
  private log: Logger | undefined;

  constructor(opts: TelemetryOptions = {}) {
    this.log = opts.log;
  }

  /** Subscribes; `subscriber` names it in the failure log (default: the function's name). Returns the function that unsubscribes. */
  on<K extends TelemetryName>(name: K, fn: Handler<K>, subscriber?: string): () => void {
    const list = this.handlers.get(name) ?? [];
    const sub: Subscription = {
      fn: fn as Handler<never>,
      event: name,
      subscriber: subscriber ?? (fn.name || "anonymous"),
      failures: 0,
    };
    // a new array: an emit in progress keeps iterating the list it started with
    this.handlers.set(name, [...list, sub]);
    return () => {
      const cur = this.handlers.get(name);
      if (cur)
        this.handlers.set(
          name,
          cur.filter((s) => s !== sub),
        );
    };
  }

  /** True when someone listens: lets hot paths skip building payloads. */
  has(name: TelemetryName): boolean {
    const l = this.handlers.get(name);
    return l !== undefined && l.length > 0;
  }

  /** Delivers to every handler; a throwing handler is reported (see the class doc) and never breaks the emitter. */
  emit<K extends TelemetryName>(name: K, payload: TelemetryEvents[K]): void {
    const list = this.handlers.get(name);
    if (!list) return;
    for (const sub of list) {
      try {
        (sub.fn as Handler<K>)(payload);
      } catch (e) {
        this.subscriberFailed(sub, e);
      }
    }
  }

  /** How many times subscribers threw, in all. */
  get subscriberFailures(): number {
    return this.failureCount;
  }

  /** Every subscriber that threw at least once, with its count and first error. */
  failures(): SubscriberFailure[] {
    return this.failed.map((f) => ({ ...f }));
  }

  private subscriberFailed(sub: Subscription, e: unknown): void {
    this.failureCount++;
    sub.failures++;
    const message = e instanceof Error ? e.message : String(e);
    const known = this.failed.find((f) => f.event === sub.event && f.subscriber === sub.subscriber);
    if (known) known.count++;
    else this.failed.push({ event: sub.event, subscriber: sub.subscriber, count: 1, message });
    if (sub.failures === 1) {
      this.log ??= createLogger({ level: "warn", file: "", nodeName: "amoc" });
      this.log.warn({
        msg: "telemetry_subscriber_failed",
        event: sub.event,
        subscriber: sub.subscriber,
        err: message,
        hint: "a bug in this subscriber: it missed this event; its later failures are counted (status telemetry_failures, metric telemetry.subscriber_failures), not logged",
      });
    }
    // counted as a metric too; a failing metric subscriber must not recurse through its own failure report
    if (this.reporting) return;
    this.reporting = true;
    try {
      this.emit("metric", { kind: "count", name: SUBSCRIBER_FAILURES_METRIC, value: 1 });
    } finally {
      this.reporting = false;
    }
  }
}
