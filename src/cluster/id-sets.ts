/**
 * Compact ID arithmetic for the cluster: which IDs a worker holds is a list of start plans (arithmetic
 * progressions), never a list of IDs, so dealing, removing and re-dealing a million users stays a few bytes.
 */
import type { RangePlan } from "../controller/controller.js";

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

/**
 * Tracks ended IDs of one worker compactly: IDs mostly end in the order they started, so consecutive ones extend
 * the last progression. Past `limit` progressions the set overflows and reports it: the master then re-deals all
 * of a lost worker's IDs rather than guessing.
 */
export class EndedSet {
  private readonly ps: Progression[] = [];
  overflow = false;
  changed = false;

  constructor(private readonly limit = 10_000) {}

  add(id: number): void {
    this.changed = true;
    if (this.overflow) return;
    const last = this.ps[this.ps.length - 1];
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
    if (this.ps.length >= this.limit) {
      this.overflow = true;
      this.ps.length = 0;
      return;
    }
    this.ps.push({ first: id, last: id, step: 1 });
  }

  /** The ended IDs as sorted disjoint intervals (for subtraction); undefined after an overflow. */
  toIntervals(): Intervals | undefined {
    if (this.overflow) return undefined;
    const ids: number[] = [];
    for (const p of this.ps) for (let id = p.first; id <= p.last; id += p.step) ids.push(id);
    return addToIntervals([], ids);
  }

  toJSON(): { overflow: boolean; progressions: Progression[] } {
    return { overflow: this.overflow, progressions: this.ps };
  }
}

/** Expands progressions (as stored by EndedSet) into intervals. */
export function progressionsToIntervals(ps: Progression[]): Intervals {
  const ids: number[] = [];
  for (const p of ps) for (let id = p.first; id <= p.last; id += p.step) ids.push(id);
  return addToIntervals([], ids);
}
