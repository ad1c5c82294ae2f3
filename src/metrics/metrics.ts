/** The `Metrics` interface scenarios and the core measure with, and its telemetry-backed implementation. */
import type { Telemetry } from "../telemetry.js";

/** Counters, timings (ms) and gauges; names are relative (`xmpp.connection`), the bridge adds prefix and node. */
export interface Metrics {
  count(name: string, n?: number): void;
  timing(name: string, ms: number): void;
  gauge(name: string, value: number): void;
}

/** Turns every measurement into a `metric` telemetry event; cheap when nobody listens. */
export class TelemetryMetrics implements Metrics {
  constructor(private readonly telemetry: Telemetry) {}
  count(name: string, n = 1): void {
    this.telemetry.emit("metric", { kind: "count", name, value: n });
  }
  timing(name: string, ms: number): void {
    this.telemetry.emit("metric", { kind: "timing", name, value: ms });
  }
  gauge(name: string, value: number): void {
    this.telemetry.emit("metric", { kind: "gauge", name, value });
  }
}
