/** Start plans: which user IDs start when, computed from absolute time so no drift accumulates. */
import { systemClock } from "../clock.js";

/**
 * Users `k .. k+n-1` (0-based, counted from the plan's `baseId`) start within `[t, t+d)` ms after the plan's `t0Ms`,
 * the rate moving linearly from `r0` to `r1` users per ms; with `seed` the instants are Poisson arrivals (exactly
 * `n` of them in the segment, drawn from a PRNG every node seeds the same).
 */
export interface ShapeSegment {
  k: number;
  n: number;
  t: number;
  d: number;
  r0: number;
  r1: number;
  seed?: number;
}

/** A compact set of IDs dealt to this node: `from + offset, from + offset + step, ... <= to`. */
export interface IdRange {
  from: number;
  to: number;
  /** Distance between two IDs of this node (the number of workers; 1 locally). */
  step: number;
  /** Index of this node among the workers (0 locally). */
  offset: number;
}

/** When to start a range: user `id` starts at `t0Ms + (id - baseId) * interarrivalMs`. */
export interface RangePlan extends IdRange {
  t0Ms: number;
  baseId: number;
  interarrivalMs: number;
  /** A load shape (stages): when set, user `id` starts at `t0Ms` plus the shape's offset of `id - baseId`. */
  segments?: ShapeSegment[];
}

/** A lazily walked start plan: the pool asks for the next due ID, never holding one object per waiting user. */
export interface StartCursor {
  /** The next ID, or undefined when the plan is used up. */
  readonly id: number | undefined;
  /** When the next ID is due (epoch ms). */
  readonly atMs: number;
  /** How many IDs are still to start. */
  readonly remaining: number;
  /** When the last ID of the plan is due (epoch ms). */
  readonly lastAtMs: number;
  advance(): void;
  /** Drops every remaining ID (the plan is cancelled); returns how many were dropped. */
  cancel(): number;
}

/** Walks a range plan. */
export class RangeCursor implements StartCursor {
  private next: number;
  constructor(private readonly p: RangePlan) {
    this.next = p.from + p.offset;
  }
  get id(): number | undefined {
    return this.next <= this.p.to ? this.next : undefined;
  }
  get atMs(): number {
    return this.p.t0Ms + (this.next - this.p.baseId) * this.p.interarrivalMs;
  }
  get remaining(): number {
    return this.next > this.p.to ? 0 : Math.floor((this.p.to - this.next) / this.p.step) + 1;
  }
  get lastAtMs(): number {
    const first = this.p.from + this.p.offset;
    const last = this.p.to - ((this.p.to - first) % this.p.step);
    return this.p.t0Ms + (last - this.p.baseId) * this.p.interarrivalMs;
  }
  advance(): void {
    this.next += this.p.step;
  }
  cancel(): number {
    const n = this.remaining;
    this.next = this.p.to + 1;
    return n;
  }
}

/** Epoch milliseconds with sub-millisecond resolution, monotonic within the process (the system clock's now). */
export function nowMs(): number {
  return systemClock.now();
}
