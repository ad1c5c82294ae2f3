/**
 * The one mapping from a node's telemetry events to metric names. StatsD (bridge.ts), Prometheus (prometheus.ts) and
 * the run's intervals (results/aggregator.ts) all subscribe through it, so a user counted by one is counted by all
 * three under the same name (docs/metrics.md lists the names, names.ts holds them).
 */
import type { Telemetry, TelemetryEvents } from "../telemetry.js";
import * as names from "./names.js";

/** What a consumer does with the measurements: where they go is its own business, what they are is decided here. */
export interface MeasurementTarget {
  count(name: string, value: number): void;
  /** A duration in milliseconds. */
  timing(name: string, ms: number): void;
  gauge(name: string, value: number): void;
  /** Users running on this node: counted from start and stop events, corrected by the controller's own count. */
  running(n: number): void;
  /** A user crashed (`users.crashed` is already counted): a consumer's breakdowns by phase or reason. */
  crashed?(e: TelemetryEvents["user.crashed"]): void;
}

/**
 * Subscribes `target` to the measurements of `telemetry`; `subscriber` names it in the bus's failure log. Returns the
 * function that unsubscribes.
 */
export function subscribeMeasurements(telemetry: Telemetry, target: MeasurementTarget, subscriber: string): () => void {
  let running = 0;
  const setRunning = (n: number) => {
    running = n;
    target.running(n);
  };
  const offs = [
    // `metric` events (XMPP helpers, scenarios' `ctx.metrics`) pass through under their own names
    telemetry.on(
      "metric",
      (m) => {
        if (m.kind === "count") target.count(m.name, m.value);
        else if (m.kind === "timing") target.timing(m.name, m.value);
        else target.gauge(m.name, m.value);
      },
      subscriber,
    ),
    telemetry.on(
      "user.started",
      (e) => {
        target.count(names.USERS_STARTED, 1);
        target.timing(names.USERS_START_LAG, e.lagMs);
        setRunning(running + 1);
      },
      subscriber,
    ),
    telemetry.on(
      "user.stopped",
      (e) => {
        // crashed users are counted from user.crashed, which carries the phase
        if (e.reason === "finished") target.count(names.USERS_FINISHED, 1);
        else if (e.reason === "removed") target.count(names.USERS_REMOVED, 1);
        setRunning(Math.max(0, running - 1));
      },
      subscriber,
    ),
    telemetry.on(
      "user.crashed",
      (e) => {
        target.count(names.USERS_CRASHED, 1);
        target.crashed?.(e);
      },
      subscriber,
    ),
    // the controller's count is authoritative: it corrects any drift of the event-based one
    telemetry.on("controller.users", (e) => setRunning(e.running), subscriber),
    telemetry.on(
      "scenario.init",
      (e) => {
        target.timing(names.SCENARIO_INIT, e.durationMs);
        if (!e.ok) target.count(names.SCENARIO_INIT_FAILURES, 1);
      },
      subscriber,
    ),
    telemetry.on("scenario.terminate", (e) => target.timing(names.SCENARIO_TERMINATE, e.durationMs), subscriber),
  ];
  return () => {
    for (const off of offs) off();
  };
}
