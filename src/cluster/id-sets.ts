/**
 * Compact ID arithmetic for the cluster: which IDs a worker holds is a list of start plans (arithmetic
 * progressions), never a list of IDs, so dealing, removing and re-dealing a million users stays a few bytes.
 */
import { deflateRawSync, inflateRawSync } from "node:zlib";
import type { RangePlan } from "../users/schedule.js";

/** An arithmetic progression of IDs: first, first + step, ... <= last. */
export interface Progression {
  first: number;
  last: number;
  step: number;
}

/** Disjoint, sorted, inclusive intervals [a, b] of IDs (removed IDs, for instance). */
export type Intervals = Array<[number, number]>;

/** The IDs of a plan as a progression (empty when the plan holds none). */
export function planIds(p: RangePlan): Progression | undefined {
  const first = p.from + p.offset;
  if (first > p.to) return undefined;
  return { first, last: p.to - ((p.to - first) % p.step), step: p.step };
}

/** How many IDs a progression holds. */
export function progressionSize(p: Progression): number {
  return p.first > p.last ? 0 : Math.floor((p.last - p.first) / p.step) + 1;
}

/** The progression's IDs outside the given intervals, as progressions of the same step. */
export function subtractIntervals(p: Progression, cut: Intervals): Progression[] {
  const out: Progression[] = [];
  let first = p.first;
  for (const [a, b] of cut) {
    if (first > p.last) break;
    if (b < first || a > p.last) continue;
    // keep the part of the progression before a
    if (a > first) {
      const lastBefore = first + Math.floor((Math.min(a - 1, p.last) - first) / p.step) * p.step;
      if (lastBefore >= first) out.push({ first, last: lastBefore, step: p.step });
    }
    // resume at the first element after b
    first = b < first ? first : first + (Math.floor((b - first) / p.step) + 1) * p.step;
  }
  if (first <= p.last) out.push({ first, last: p.last, step: p.step });
  return out;
}

/** Merges IDs into sorted disjoint intervals. */
export function addToIntervals(set: Intervals, ids: Iterable<number>): Intervals {
  const all = [...set];
  for (const id of ids) all.push([id, id]);
  all.sort((x, y) => x[0] - y[0]);
  const out: Intervals = [];
  for (const [a, b] of all) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/**
 * Deals a set of progressions over `k` workers in ID order, one every `interarrivalMs` cluster-wide from `t0Ms`:
 * the i-th ID overall goes to worker i mod k at t0 + i * interarrival. Each worker gets one plan per progression.
 */
export function dealProgressions(ps: Progression[], k: number, t0Ms: number, interarrivalMs: number): RangePlan[][] {
  const perWorker: RangePlan[][] = Array.from({ length: k }, () => []);
  let index = 0; // position of the progression's first ID in the overall order
  for (const p of ps) {
    const n = progressionSize(p);
    if (n === 0) continue;
    for (let j = 0; j < Math.min(k, n); j++) {
      // worker w takes the elements whose overall index ≡ w (mod k)
      const w = (index + j) % k;
      perWorker[w]!.push({
        from: p.first,
        to: p.last,
        step: p.step * k,
        offset: j * p.step,
        t0Ms: t0Ms + index * interarrivalMs,
        baseId: p.first,
        interarrivalMs: interarrivalMs / p.step,
      });
    }
    index += n;
  }
  return perWorker;
}

/** Builds progressions from IDs given in increasing order: each ID extends the last progression when it can. */
export class ProgressionBuilder {
  readonly out: Progression[] = [];

  add(id: number): void {
    const last = this.out[this.out.length - 1];
    if (last) {
      if (last.first === last.last && id > last.last) {
        last.step = id - last.first;
        last.last = id;
        return;
      }
      if (id === last.last + last.step) {
        last.last = id;
        return;
      }
    }
    this.out.push({ first: id, last: id, step: 1 });
  }
}

/** IDs (any order) as few progressions: a worker's share of a round-robin deal is one progression per plan. */
export function toProgressions(ids: Iterable<number>): Progression[] {
  const b = new ProgressionBuilder();
  for (const id of [...ids].sort((x, y) => x - y)) b.add(id);
  return b.out;
}

/** Every ID of the progressions, in order. */
export function* expand(ps: Progression[]): Generator<number> {
  for (const p of ps) for (let id = p.first; id <= p.last; id += p.step) yield id;
}

/** How many IDs the progressions hold together. */
export function totalSize(ps: Progression[]): number {
  return ps.reduce((n, p) => n + progressionSize(p), 0);
}

/** The part of a progression at or above `min` (undefined when none is). */
function clipBelow(p: Progression, min: number): Progression | undefined {
  const first = p.first >= min ? p.first : p.first + Math.ceil((min - p.first) / p.step) * p.step;
  return first > p.last ? undefined : { first, last: p.last, step: p.step };
}

/**
 * The `n` highest IDs of several disjoint sets of progressions (one per node), as progressions per node: the
 * lowest chosen ID is found by bisection on "how many IDs are >= x", so nothing is ever expanded.
 */
export function highest<K extends string>(sets: Record<K, Progression[]>, n: number): Record<K, Progression[]> {
  const all = Object.values<Progression[]>(sets).flat();
  const atLeast = (x: number) =>
    all.reduce((c, p) => c + (p.last < x ? 0 : progressionSize(clipBelow(p, x) ?? { first: 1, last: 0, step: 1 })), 0);
  const want = Math.min(n, totalSize(all));
  const out = {} as Record<K, Progression[]>;
  if (want <= 0) {
    for (const k of Object.keys(sets) as K[]) out[k] = [];
    return out;
  }
  // the largest x with atLeast(x) >= want: IDs are distinct, so exactly `want` IDs are >= it
  let lo = Math.min(...all.map((p) => p.first));
  let hi = Math.max(...all.map((p) => p.last));
  while (lo < hi) {
    const mid = lo + Math.ceil((hi - lo) / 2);
    if (atLeast(mid) >= want) lo = mid;
    else hi = mid - 1;
  }
  for (const [k, ps] of Object.entries<Progression[]>(sets))
    out[k as K] = ps.map((p) => clipBelow(p, lo)).filter((p): p is Progression => p !== undefined);
  return out;
}

/** A set of IDs as a bitmap: its size is bounded by the IDs' span (span / 8 bytes), whatever order they come in. */
export class IdBitmap {
  /** The ID of bit 0 of byte 0; a multiple of 8. */
  private base = 0;
  private bytes = new Uint8Array(0);
  size = 0;

  has(id: number): boolean {
    const i = id - this.base;
    if (i < 0 || i >= this.bytes.length * 8) return false;
    return ((this.bytes[i >> 3] as number) & (1 << (i & 7))) !== 0;
  }

  add(id: number): void {
    if (this.size === 0 && this.bytes.length === 0) this.base = Math.floor(id / 8) * 8;
    if (id < this.base) this.growDown(id);
    const i = id - this.base;
    if (i >= this.bytes.length * 8) this.growUp(i);
    const mask = 1 << (i & 7);
    const b = this.bytes[i >> 3] as number;
    if ((b & mask) === 0) {
      this.bytes[i >> 3] = b | mask;
      this.size++;
    }
  }

  addAll(ps: Progression[]): void {
    for (const id of expand(ps)) this.add(id);
  }

  private growUp(bit: number): void {
    const need = (bit >> 3) + 1;
    const next = new Uint8Array(Math.max(need, this.bytes.length * 2, 64));
    next.set(this.bytes);
    this.bytes = next;
  }

  private growDown(id: number): void {
    const newBase = Math.floor(id / 8) * 8;
    const shift = (this.base - newBase) / 8;
    const next = new Uint8Array(this.bytes.length + shift);
    next.set(this.bytes, shift);
    this.bytes = next;
    this.base = newBase;
  }

  /** The set as `{base, count, bits}`: bits is the deflated bitmap in base64 (runs of ended users compress to a few bytes). */
  encode(): EncodedIds {
    let end = this.bytes.length;
    while (end > 0 && this.bytes[end - 1] === 0) end--;
    return { base: this.base, count: this.size, bits: deflateRawSync(this.bytes.subarray(0, end)).toString("base64") };
  }

  /** Decodes `encode()`'s output; throws when it is not a valid encoding or its count does not match. */
  static decode(e: EncodedIds): IdBitmap {
    const m = new IdBitmap();
    if (!Number.isSafeInteger(e.base) || e.base % 8 !== 0) throw new Error("base must be a multiple of 8");
    m.base = e.base;
    m.bytes = new Uint8Array(inflateRawSync(Buffer.from(e.bits, "base64"), { maxOutputLength: MAX_BITMAP_BYTES }));
    let n = 0;
    for (const b of m.bytes) n += POPCOUNT[b] as number;
    if (n !== e.count) throw new Error(`count ${e.count} does not match the bitmap's ${n} IDs`);
    m.size = n;
    return m;
  }
}

/** An IdBitmap as stored in the bucket. */
export interface EncodedIds {
  base: number;
  count: number;
  bits: string;
}

/** A bitmap spans at most 128 M IDs. */
const MAX_BITMAP_BYTES = 16 * 1024 * 1024;
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let x = b; x; x >>= 1) n += x & 1;
  return n;
});

/**
 * The IDs that ended on one worker, for the master to re-deal only the unfinished users of a lost worker. A bitmap,
 * not a list of progressions: users end in any order, and no number of them makes the record overflow.
 */
export class EndedSet {
  private readonly bits = new IdBitmap();
  changed = false;

  add(id: number): void {
    this.changed = true;
    this.bits.add(id);
  }

  get size(): number {
    return this.bits.size;
  }

  toJSON(): EncodedIds {
    return this.bits.encode();
  }
}

/** A lost worker's unfinished IDs as progressions: the IDs of its plans that are not in `gone` (ended or removed). */
export function unfinishedIds(plans: RangePlan[], gone: { has(id: number): boolean }): Progression[] {
  const lost: Progression[] = [];
  for (const p of plans) {
    const ids = planIds(p);
    if (!ids) continue;
    const b = new ProgressionBuilder();
    for (let id = ids.first; id <= ids.last; id += ids.step) if (!gone.has(id)) b.add(id);
    lost.push(...b.out);
  }
  return lost;
}
