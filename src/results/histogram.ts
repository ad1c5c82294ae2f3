/** The HDR histograms of the run store: timings in microseconds, 3 significant digits, and their statistics in ms. */
import * as hdr from "hdr-histogram-js";
import type { HistogramView } from "./sparse-histogram.js";

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

/** An empty histogram of timings (µs, 3 significant digits; it grows to the largest value recorded). */
export function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 2, numberOfSignificantValueDigits: 3, autoResize: true });
}

/** Records a timing given in ms (values below 1 µs count as 1 µs). */
export function recordMs(h: hdr.Histogram, ms: number): void {
  if (!Number.isFinite(ms)) return;
  h.recordValue(Math.max(1, Math.round(ms * US_PER_MS)));
}

/** The JS histogram's bucket access (hdr.build without WebAssembly builds one): counts by index. */
interface Buckets {
  countsArrayLength: number;
  getCountAtIndex(i: number): number;
  valueFromIndex(i: number): number;
}

/**
 * The histogram as a sparse list of its non-empty buckets, base64 of unsigned LEB128 varints: (index delta, count)
 * pairs. Every histogram here has the same layout (1 µs, 3 significant digits), so a bucket index means the same value
 * everywhere. Far faster to decode and merge than hdr-histogram-js's deflated V2 encoding (~250 µs per histogram),
 * and as small: a busy interval of 625 TTDs is ~1 KB.
 */
export function encodeHistogram(h: hdr.Histogram): string {
  const b = h as unknown as Buckets;
  return encodeBuckets(
    (function* () {
      for (let i = 0; i < b.countsArrayLength; i++) {
        const c = b.getCountAtIndex(i);
        if (c !== 0) yield [i, c] as [number, number];
      }
    })(),
  );
}

/** The encoding of `encodeHistogram` from non-empty buckets given as (index, count) in ascending index order. */
export function encodeBuckets(buckets: Iterable<[number, number]>): string {
  const out: number[] = [];
  const put = (n: number) => {
    while (n >= 0x80) {
      out.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    out.push(n);
  };
  let last = 0;
  for (const [i, c] of buckets) {
    put(i - last);
    put(c);
    last = i;
  }
  return Buffer.from(out).toString("base64");
}

/** Calls `fn(index, count)` for every bucket of a histogram written by `encodeHistogram`; throws on garbage. */
export function forEachEncodedBucket(b64: string, fn: (index: number, count: number) => void): void {
  const buf = Buffer.from(b64, "base64");
  let p = 0;
  const get = (): number => {
    let n = 0;
    let mul = 1;
    for (;;) {
      if (p >= buf.length) throw new Error("malformed histogram: truncated");
      const x = buf[p++] as number;
      n += (x & 0x7f) * mul;
      if (x < 0x80) return n;
      mul *= 0x80;
    }
  };
  let i = 0;
  while (p < buf.length) {
    i += get();
    fn(i, get());
  }
}

/** Adds a histogram written by `encodeHistogram` into `into`; throws on garbage. */
export function decodeHistogramInto(b64: string, into: hdr.Histogram): void {
  const b = into as unknown as Buckets;
  forEachEncodedBucket(b64, (i, c) => into.recordValueWithCount(b.valueFromIndex(i), c));
}

/** Reads a histogram written by `encodeHistogram`; throws on garbage. */
export function decodeHistogram(b64: string): hdr.Histogram {
  const h = newHistogram();
  decodeHistogramInto(b64, h);
  return h;
}

const ms = (us: number): number => Math.round((us / US_PER_MS) * 100) / 100;

/** count, min, mean, p50, p90, p95, p99, max of a histogram, in ms. */
export function timingStats(h: HistogramView): TimingStats {
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
export function percentileMs(h: HistogramView, p: number): number {
  return h.totalCount === 0 ? 0 : ms(h.getValueAtPercentile(p));
}

export type Histogram = hdr.Histogram;
