/** The HDR histograms of the run store: timings in microseconds, 3 significant digits, and their statistics in ms. */
import * as hdr from "hdr-histogram-js";

/** Timings are recorded in microseconds so sub-millisecond values keep their precision. */
export const US_PER_MS = 1000;

/** A timing's distribution, in ms (rounded to 0.01 ms). */
export interface TimingStats {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/** An empty histogram of timings (µs, 3 significant digits, up to an hour, growing if needed). */
export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000 * US_PER_MS, numberOfSignificantValueDigits: 3, autoResize: true });
}

/** Records a timing given in ms (values below 1 µs count as 1 µs). */
export function recordMs(h: hdr.Histogram, ms: number): void {
  if (!Number.isFinite(ms)) return;
  h.recordValue(Math.max(1, Math.round(ms * US_PER_MS)));
}

/** The histogram as compressed base64 (hdr-histogram-js's V2 encoding, deflated). */
export function encodeHistogram(h: hdr.Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** Reads a histogram written by `encodeHistogram`; throws on garbage. */
export function decodeHistogram(b64: string): hdr.Histogram {
  return hdr.decodeFromCompressedBase64(b64);
}

const ms = (us: number): number => Math.round((us / US_PER_MS) * 100) / 100;

/** count, min, mean, p50, p90, p95, p99, max of a histogram, in ms. */
export function timingStats(h: hdr.Histogram): TimingStats {
  if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
  return {
    count: h.totalCount,
    min: ms(h.minNonZeroValue),
    mean: ms(h.mean),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.maxValue),
  };
}

/** The value at any percentile (0..100), in ms. */
export function percentileMs(h: hdr.Histogram, p: number): number {
  return h.totalCount === 0 ? 0 : ms(h.getValueAtPercentile(p));
}

export type Histogram = hdr.Histogram;
