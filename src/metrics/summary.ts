/** Collects every measurement of a run for its end-of-run summary: counters, gauges and HDR histograms of timings. */
import * as hdr from "hdr-histogram-js";
import type { Telemetry } from "../telemetry.js";

/** A counter's total. */
export interface CounterSummary {
  count: number;
}
/** A timing's distribution, in ms. */
export interface TimingSummary {
  count: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Timings are recorded in microseconds so sub-millisecond values keep their precision. */
const US = 1000;

/** Subscribes to `metric` events and keeps what the summary prints. */
export class SummaryCollector {
  private readonly counters = new Map<string, number>();
  private readonly gauges = new Map<string, number>();
  private readonly timings = new Map<string, hdr.Histogram>();
  private readonly off: () => void;

  constructor(telemetry: Telemetry) {
    this.off = telemetry.on("metric", (m) => {
      if (m.kind === "count") this.counters.set(m.name, (this.counters.get(m.name) ?? 0) + m.value);
      else if (m.kind === "gauge") this.gauges.set(m.name, m.value);
      else this.record(m.name, m.value);
    });
  }

  private record(name: string, ms: number): void {
    let h = this.timings.get(name);
    if (!h) {
      h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000 * US, numberOfSignificantValueDigits: 3, autoResize: true });
      this.timings.set(name, h);
    }
    h.recordValue(Math.max(1, Math.round(ms * US)));
  }

  /** `{name: {count}}` for counters, `{name: {count, min, p50, p95, p99, max}}` (ms) for timings. */
  snapshot(): Record<string, CounterSummary | TimingSummary> {
    const out: Record<string, CounterSummary | TimingSummary> = {};
    for (const [k, v] of [...this.counters].sort()) out[k] = { count: v };
    for (const [k, h] of [...this.timings].sort((a, b) => a[0].localeCompare(b[0]))) {
      const ms = (v: number) => Math.round((v / US) * 100) / 100;
      out[k] = { count: h.totalCount, min: ms(h.minNonZeroValue), p50: ms(h.getValueAtPercentile(50)), p95: ms(h.getValueAtPercentile(95)), p99: ms(h.getValueAtPercentile(99)), max: ms(h.maxValue) };
    }
    return out;
  }

  counter(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  close(): void {
    this.off();
  }
}
