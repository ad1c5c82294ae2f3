/**
 * Collects every measurement of a run for its end-of-run summary: counters, gauges and histograms of timings, the
 * same histograms (results/histogram.ts) and statistics rules as the run store, thresholds and report.
 */
import type { Telemetry } from "../telemetry.js";
import { Histogram, timingStats, type TimingStats } from "./histogram.js";

/** A counter's total. */
export interface CounterSummary {
  count: number;
}
/** A timing's distribution, in ms. */
export type TimingSummary = TimingStats;

/**
 * A collector's state in a form that travels (a cluster worker sends it with its `stop` and `status` replies) and
 * merges: counter totals, gauge values, and each timing's histogram in results/histogram.ts's encoding.
 */
export interface EncodedSummary {
  counters: Record<string, number>;
  gauges: Record<string, number>;
  timings: Record<string, string>;
}

/**
 * Counted on every delivery kept for a later wait: ordinary, so it is left out of the summary unless something was
 * dropped (then both say how full the buffers got).
 */
const QUIET_UNLESS: Record<string, string> = { "xmpp.stanzas_buffered": "xmpp.stanzas_dropped" };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Why a value is not an EncodedSummary (undefined: it is one). Checks shapes only; histograms are checked on merge. */
export function checkEncodedSummary(v: unknown): string | undefined {
  if (!isRecord(v)) return "must be an object";
  for (const [part, want] of [
    ["counters", "number"],
    ["gauges", "number"],
    ["timings", "string"],
  ] as const) {
    const o = v[part];
    if (!isRecord(o)) return `${part} must be an object`;
    for (const [k, x] of Object.entries(o))
      if (typeof x !== want || (want === "number" && !Number.isFinite(x))) return `${part}.${k} must be a ${want}`;
  }
  return undefined;
}

/** Subscribes to `metric` events and keeps what the summary prints. */
export class SummaryCollector {
  private readonly counters = new Map<string, number>();
  private readonly gauges = new Map<string, number>();
  private readonly timings = new Map<string, Histogram>();
  private readonly off: () => void;
  /** Counts changes, so an export is encoded again only when something was recorded since. */
  private changes = 0;
  private cached: { at: number; changes: number; e: EncodedSummary } | undefined;

  /** Listens to `telemetry`'s metric events (none: only merged summaries are collected). */
  constructor(telemetry: Telemetry | undefined) {
    this.off = !telemetry
      ? () => {}
      : telemetry.on("metric", (m) => {
          this.changes++;
          if (m.kind === "count") this.counters.set(m.name, (this.counters.get(m.name) ?? 0) + m.value);
          else if (m.kind === "gauge") this.gauges.set(m.name, m.value);
          else this.record(m.name, m.value);
        });
  }

  /** A collector of other nodes' summaries only (a cluster master): it listens to nothing. */
  static merged(parts: EncodedSummary[]): SummaryCollector {
    const c = new SummaryCollector(undefined);
    for (const p of parts) c.merge(p);
    return c;
  }

  private histogram(name: string): Histogram {
    let h = this.timings.get(name);
    if (!h) {
      h = new Histogram();
      this.timings.set(name, h);
    }
    return h;
  }

  private record(name: string, ms: number): void {
    this.histogram(name).recordMs(ms);
  }

  /**
   * Everything collected so far, encoded to travel and merge (see EncodedSummary). Encoding every histogram costs:
   * the last export is reused when nothing was recorded since, or when it is younger than `maxAgeMs` (status polls
   * may see a summary that old; 0: always current).
   */
  exportEncoded(maxAgeMs = 0): EncodedSummary {
    const c = this.cached;
    const now = Date.now();
    if (c && (c.changes === this.changes || now - c.at < maxAgeMs)) return c.e;
    const timings: Record<string, string> = {};
    for (const [k, h] of this.timings) timings[k] = h.encode();
    const e = { counters: Object.fromEntries(this.counters), gauges: Object.fromEntries(this.gauges), timings };
    this.cached = { at: now, changes: this.changes, e };
    return e;
  }

  /**
   * Adds another collector's encoded summary to this one: counters and gauges add up (a gauge of the cluster is
   * the sum of the nodes' last values), histograms merge, so percentiles come from all the values, never averages.
   * Throws on a malformed summary.
   */
  merge(e: EncodedSummary): void {
    const bad = checkEncodedSummary(e);
    if (bad) throw new Error(`malformed summary: ${bad}`);
    this.changes++;
    for (const [k, v] of Object.entries(e.counters)) this.counters.set(k, (this.counters.get(k) ?? 0) + v);
    for (const [k, v] of Object.entries(e.gauges)) this.gauges.set(k, (this.gauges.get(k) ?? 0) + v);
    for (const [k, enc] of Object.entries(e.timings)) this.histogram(k).addEncoded(enc);
  }

  /**
   * `{name: {count}}` for counters, `{name: {count, min, mean, p50, p95, p99, max}}` (ms) for timings. A counter of
   * ordinary events (QUIET_UNLESS) is left out unless its companion counter is above 0.
   */
  snapshot(): Record<string, CounterSummary | TimingSummary> {
    const out: Record<string, CounterSummary | TimingSummary> = {};
    for (const [k, v] of [...this.counters].sort()) {
      const unless = QUIET_UNLESS[k];
      if (unless !== undefined && !((this.counters.get(unless) ?? 0) > 0)) continue;
      out[k] = { count: v };
    }
    for (const [k, h] of [...this.timings].sort((a, b) => a[0].localeCompare(b[0]))) out[k] = timingStats(h);
    return out;
  }

  /** A gauge's last value (merged: the sum over the nodes). */
  gauge(name: string): number | undefined {
    return this.gauges.get(name);
  }

  counter(name: string): number {
    return this.counters.get(name) ?? 0;
  }

  close(): void {
    this.off();
  }
}
