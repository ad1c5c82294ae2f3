/** The port the telemetry bridge writes to: StatsD in production, an in-memory fake in tests. */
import type { Metrics } from "./metrics.js";

/** Where metrics go: counters, timings (ms) and gauges by name relative to the node prefix, then a bounded close. */
export interface MetricSink extends Metrics {
  /** Sends what is buffered and releases the transport; resolves within a bounded time even if the daemon is gone. */
  close(): Promise<void>;
}
