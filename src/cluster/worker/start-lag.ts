/** The start-time error of a worker's users (how late each started against its plan), for status. */
import type { StartLag } from "../protocol.js";

/** How many lags the percentiles are taken from (a reservoir sample: bounded memory for any number of users). */
const SAMPLE = 10_000;

/** Running mean and max of the lags, with a reservoir sample for p50 and p99. */
export class StartLags {
  private count = 0;
  private mean = 0;
  private max = 0;
  private sample: number[] = [];
  /** Percentiles of `sample` as last computed, and whether the sample changed since (status is polled). */
  private q = { p50: 0, p99: 0 };
  private dirty = false;

  record(ms: number): void {
    this.count++;
    this.dirty = true;
    this.mean += (ms - this.mean) / this.count;
    if (ms > this.max) this.max = ms;
    if (this.sample.length < SAMPLE) this.sample.push(ms);
    else {
      const j = Math.floor(Math.random() * this.count);
      if (j < SAMPLE) this.sample[j] = ms;
    }
  }

  /** Forgets every lag (a new run). */
  reset(): void {
    this.count = this.mean = this.max = 0;
    this.sample = [];
    this.q = { p50: 0, p99: 0 };
    this.dirty = false;
  }

  stats(): StartLag {
    if (this.dirty) {
      const sorted = Float64Array.from(this.sample).sort();
      const q = (p: number) =>
        sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number) : 0;
      this.q = { p50: round(q(0.5)), p99: round(q(0.99)) };
      this.dirty = false;
    }
    return { count: this.count, mean: round(this.mean), ...this.q, max: round(this.max) };
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
