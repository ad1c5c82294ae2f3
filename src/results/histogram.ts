/**
 * The one histogram of amoc-ts: timings in microseconds in HDR's bucket layout (1 µs, 3 significant digits), kept
 * sparse (a Map of bucket index -> count), with the exact count, min, max and sum beside the buckets. Every view of a
 * run (summary, status, thresholds, report, JUnit, compare, dashboard) reads its statistics through `timingStats`,
 * so a percentile is never above the exact max and the exact max is what every view shows.
 *
 * Encoding (what travels in intervals and summaries and is stored): `<minUs>,<maxUs>,<sumUs>:<buckets>`, the
 * buckets being base64 of unsigned LEB128 varint (index delta, count) pairs. A bucket index means the same value
 * everywhere, so merging is adding counts. Histograms stored before the exact header (no `:`) decode too, their
 * min and max then being bucket bounds.
 */

/** Timings are recorded in microseconds so sub-millisecond values keep their precision. */
export const US_PER_MS = 1000;

/** HDR's layout for 3 significant digits at 1 µs: 2048 sub-buckets, the lower half shared with the previous bucket. */
const SUB_BUCKET_HALF_MAGNITUDE = 10;
const SUB_BUCKET_HALF = 1 << SUB_BUCKET_HALF_MAGNITUDE;
const SUB_BUCKET_MASK = 2 * SUB_BUCKET_HALF - 1;

/** floor(log2(v)) for v >= 1, exact above 2^31 too. */
function log2Floor(v: number): number {
  return v < 2 ** 31 ? 31 - Math.clz32(v) : Math.floor(Math.log2(v));
}

/** The bucket index of a value in µs (an integer >= 1). */
export function indexOfValue(us: number): number {
  const bucket = Math.max(0, log2Floor(Math.max(us, SUB_BUCKET_MASK)) - SUB_BUCKET_HALF_MAGNITUDE);
  const sub = Math.floor(us / 2 ** bucket);
  return bucket * SUB_BUCKET_HALF + sub;
}

/** The lowest value (µs) of bucket `index`. */
function lowestOfIndex(index: number): number {
  let bucket = (index >> SUB_BUCKET_HALF_MAGNITUDE) - 1;
  let sub = (index & (SUB_BUCKET_HALF - 1)) + SUB_BUCKET_HALF;
  if (bucket < 0) {
    sub -= SUB_BUCKET_HALF;
    bucket = 0;
  }
  return sub * 2 ** bucket;
}

/** The highest value (µs) of bucket `index`. */
function highestOfIndex(index: number): number {
  const low = lowestOfIndex(index);
  return low + 2 ** Math.max(0, log2Floor(Math.max(low, SUB_BUCKET_MASK)) - SUB_BUCKET_HALF_MAGNITUDE) - 1;
}

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

/** See the file comment. */
export class Histogram {
  private readonly counts = new Map<number, number>();
  private sorted: number[] | undefined;
  private total = 0;
  /** Exact statistics in µs; `exact` false when a part came from an encoding without them. */
  private minUs = Infinity;
  private maxUs = -Infinity;
  private sumUs = 0;
  private exact = true;

  /** Records a timing given in ms (non-finite values are ignored; below 1 µs lands in the 1 µs bucket). */
  recordMs(ms: number): void {
    if (!Number.isFinite(ms)) return;
    const us = Math.max(0, ms * US_PER_MS);
    this.addAtIndex(indexOfValue(Math.max(1, Math.round(us))), 1);
    if (us < this.minUs) this.minUs = us;
    if (us > this.maxUs) this.maxUs = us;
    this.sumUs += us;
  }

  private addAtIndex(index: number, count: number): void {
    const had = this.counts.get(index);
    if (had === undefined) this.sorted = undefined;
    this.counts.set(index, (had ?? 0) + count);
    this.total += count;
  }

  /** Adds another histogram. */
  add(o: Histogram): void {
    for (const [i, c] of o.counts) this.addAtIndex(i, c);
    this.mergeExact(o.exact, o.minUs, o.maxUs, o.sumUs);
  }

  private mergeExact(exact: boolean, min: number, max: number, sum: number): void {
    this.exact &&= exact;
    this.minUs = Math.min(this.minUs, min);
    this.maxUs = Math.max(this.maxUs, max);
    this.sumUs += sum;
  }

  /** Adds an encoded histogram (see the file comment); throws on garbage. */
  addEncoded(s: string): void {
    const colon = s.indexOf(":");
    const b64 = colon < 0 ? s : s.slice(colon + 1);
    const exact = colon < 0 ? undefined : s.slice(0, colon).split(",").map(Number);
    if (exact && !(exact.length === 3 && exact.every(Number.isFinite)))
      throw new Error("malformed histogram: bad exact header");
    const before = this.total;
    forEachEncodedBucket(b64, (i, c) => this.addAtIndex(i, c));
    if (this.total === before) return;
    if (!exact) return this.mergeExact(false, Infinity, -Infinity, 0);
    this.mergeExact(true, exact[0] as number, exact[1] as number, exact[2] as number);
  }

  /** The encoding of the file comment. */
  encode(): string {
    const counts = this.counts;
    const buckets = encodeBuckets(
      (function* (indexes: Iterable<number>) {
        for (const i of indexes) yield [i, counts.get(i) ?? 0] as [number, number];
      })(this.indexes()),
    );
    if (!this.exact || this.total === 0) return buckets;
    const r = (x: number) => Math.round(x * 1000) / 1000;
    return `${r(this.minUs)},${r(this.maxUs)},${r(this.sumUs)}:${buckets}`;
  }

  /** A histogram from its encoding. */
  static decode(s: string): Histogram {
    const h = new Histogram();
    h.addEncoded(s);
    return h;
  }

  private indexes(): number[] {
    this.sorted ??= [...this.counts.keys()].sort((a, b) => a - b);
    return this.sorted;
  }

  get totalCount(): number {
    return this.total;
  }

  /** The smallest value, µs: exact when every part was, else the lowest bucket's bottom. */
  get minValue(): number {
    if (!this.total) return 0;
    return this.exact ? this.minUs : lowestOfIndex(this.indexes()[0] as number);
  }

  /** The largest value, µs: exact when every part was, else the highest bucket's top. */
  get maxValue(): number {
    if (!this.total) return 0;
    return this.exact ? this.maxUs : highestOfIndex(this.indexes().at(-1) as number);
  }

  /** The mean, µs: exact when every part was, else from bucket middles. */
  get mean(): number {
    if (!this.total) return 0;
    if (this.exact) return this.sumUs / this.total;
    let sum = 0;
    for (const [i, c] of this.counts) sum += ((lowestOfIndex(i) + highestOfIndex(i)) / 2) * c;
    return sum / this.total;
  }

  /**
   * HDR's rule (the top of the bucket where the cumulative count reaches p%, rounded up), kept within the exact min
   * and max: a bucket top can lie above the largest value recorded, and a p99 above the max reads as a bug.
   */
  valueAtPercentile(percentile: number): number {
    if (!this.total) return 0;
    const want = Math.max(Math.ceil((Math.min(percentile, 100) / 100) * this.total - 1e-9), 1);
    let acc = 0;
    for (const i of this.indexes()) {
      acc += this.counts.get(i) ?? 0;
      if (acc >= want) return Math.min(Math.max(highestOfIndex(i), this.minValue), this.maxValue);
    }
    return this.maxValue;
  }
}

/** The bucket encoding from non-empty buckets given as (index, count) in ascending index order. */
function encodeBuckets(buckets: Iterable<[number, number]>): string {
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

/** Calls `fn(index, count)` for every bucket of the bucket encoding; throws on garbage. */
function forEachEncodedBucket(b64: string, fn: (index: number, count: number) => void): void {
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

const ms = (us: number): number => Math.round((us / US_PER_MS) * 100) / 100;

/** count, min, mean, p50, p90, p95, p99, max of a histogram, in ms: the one place these rules live. */
export function timingStats(h: Histogram): TimingStats {
  if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, max: 0 };
  const p = (q: number) => ms(h.valueAtPercentile(q));
  return {
    count: h.totalCount,
    min: ms(h.minValue),
    mean: ms(h.mean),
    p50: p(50),
    p90: p(90),
    p95: p(95),
    p99: p(99),
    max: ms(h.maxValue),
  };
}

/** The value at any percentile (0..100), in ms. */
export function percentileMs(h: Histogram, p: number): number {
  return h.totalCount === 0 ? 0 : ms(h.valueAtPercentile(p));
}
