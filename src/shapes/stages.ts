/**
 * Load shapes as data: compiles `stages` (closed model: target users) or `arrival_rate` (open model: new users per
 * second) into a compact start plan of rate segments, walks it for one node's share of the IDs, and paces the
 * removals of a ramp-down. Every node computes the same instants from the same segments: no per-user messages.
 */
import { systemClock, type Clock, type TimerHandle } from "../clock.js";
import { parseStages, type ArrivalProcess, type Stage } from "../config/shapes.js";
import type { RangePlan, ShapeSegment, StartCursor } from "../users/schedule.js";

/** `n` of the highest running users are removed evenly over `[t, t+d)` ms after t0 (a closed-model ramp-down). */
export interface ShapeRemoval {
  t: number;
  d: number;
  n: number;
}

/** A compiled load shape. */
export interface LoadShape {
  model: "closed" | "open";
  segments: ShapeSegment[];
  removals: ShapeRemoval[];
  /** How many user IDs the shape issues. */
  users: number;
  /** When the last stage ends, ms after t0. */
  durationMs: number;
}

/** The settings a shape is read from (raw, as the config keeps them). */
export interface ShapeSettings {
  stages: unknown[];
  arrival_rate: unknown[];
  arrival_process: ArrivalProcess;
}

/** The run's load shape, or undefined when it sets neither `stages` nor `arrival_rate` (users and interarrival). */
export function compileShape(s: ShapeSettings, seed = 1): LoadShape | undefined {
  const closed = s.stages.length > 0;
  const open = s.arrival_rate.length > 0;
  if (closed && open) throw new Error("set stages (closed model) or arrival_rate (open model), not both");
  if (closed) return closedShape(parseStages(s.stages));
  if (open) return openShape(parseStages(s.arrival_rate), s.arrival_process === "poisson" ? seed : undefined);
  return undefined;
}

/** Targets are user counts: a rise starts new IDs evenly over the stage, a fall removes the highest evenly. */
export function closedShape(stages: Stage[]): LoadShape {
  const segments: ShapeSegment[] = [];
  const removals: ShapeRemoval[] = [];
  let prev = 0;
  let t = 0;
  let k = 0;
  for (const st of stages) {
    const target = Math.round(st.target);
    const delta = target - prev;
    if (delta > 0) {
      const r = delta / st.durationMs;
      segments.push({ k, n: delta, t, d: st.durationMs, r0: r, r1: r });
      k += delta;
    } else if (delta < 0) removals.push({ t, d: st.durationMs, n: -delta });
    prev = target;
    t += st.durationMs;
  }
  return { model: "closed", segments, removals, users: k, durationMs: t };
}

/** Targets are arrivals per second, ramped linearly from the previous one (the first stage ramps from 0). */
export function openShape(stages: Stage[], seed?: number): LoadShape {
  const segments: ShapeSegment[] = [];
  let prevRate = 0;
  let t = 0;
  let cum = 0;
  let k = 0;
  stages.forEach((st, i) => {
    const r0 = prevRate / 1000;
    const r1 = st.target / 1000;
    cum += ((r0 + r1) / 2) * st.durationMs;
    const n = Math.round(cum) - k;
    if (n > 0) {
      const seg: ShapeSegment = { k, n, t, d: st.durationMs, r0, r1 };
      if (seed !== undefined) seg.seed = (seed * 1_000_003 + i) >>> 0;
      segments.push(seg);
      k += n;
    }
    prevRate = st.target;
    t += st.durationMs;
  });
  return { model: "open", segments, removals: [], users: k, durationMs: t };
}

/** Time (ms into the segment) by which `c` users have arrived, for a rate ramping from r0 to r1 over d. */
function invert(seg: ShapeSegment, c: number): number {
  if (c <= 0) return 0;
  const a = (seg.r1 - seg.r0) / seg.d;
  let tau: number;
  if (Math.abs(a) < 1e-15) tau = seg.r0 > 0 ? c / seg.r0 : 0;
  else {
    const disc = seg.r0 * seg.r0 + 2 * a * c;
    const root = Math.sqrt(Math.max(0, disc));
    tau = seg.r0 + root > 0 ? (2 * c) / (seg.r0 + root) : seg.d;
  }
  return Math.min(seg.d, Math.max(0, tau));
}

/** Users that arrive over the segment, in the continuous model. */
function area(seg: ShapeSegment): number {
  return ((seg.r0 + seg.r1) / 2) * seg.d;
}

/** A small seeded PRNG (mulberry32): the same sequence on every node. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Exponential(1) draw. */
const exp1 = (r: () => number) => -Math.log(1 - r());

/**
 * Poisson instants of a segment, walked in order: n arrivals given their count are the order statistics of n
 * uniforms in cumulative-rate space, i.e. normalized exponential spacings (E_1..E_j)/(E_1..E_n+1).
 */
class PoissonWalk {
  private rng: () => number;
  private readonly total: number;
  private j = -1;
  private acc = 0;
  constructor(private readonly seg: ShapeSegment) {
    const r = prng(seg.seed ?? 1);
    let s = 0;
    for (let i = 0; i <= seg.n; i++) s += exp1(r);
    this.total = s;
    this.rng = prng(seg.seed ?? 1);
  }
  /** Offset (ms into the segment) of arrival `j` (j never decreases between calls). */
  at(j: number): number {
    while (this.j < j) {
      this.acc += exp1(this.rng);
      this.j++;
    }
    return invert(this.seg, (this.acc / this.total) * area(this.seg));
  }
}

/** Offset of user `k` from t0 in a shape, for segments walked in order (`walks` caches the Poisson state). */
function offsetOf(seg: ShapeSegment, k: number, walk: PoissonWalk | undefined): number {
  const j = k - seg.k;
  if (walk) return seg.t + walk.at(j);
  return seg.t + invert(seg, (j * area(seg)) / seg.n);
}

/** A range plan that follows a load shape: user `id` starts at `t0Ms + offset(id - baseId)`. */
export type ShapedPlan = RangePlan & { segments: ShapeSegment[] };

/** Walks a shaped plan lazily (one segment's state at a time), like RangeCursor walks an even one. */
export class ShapeCursor implements StartCursor {
  private next: number;
  private si = 0;
  private walk: PoissonWalk | undefined;
  private at = 0;

  constructor(private readonly p: ShapedPlan) {
    this.next = p.from + p.offset;
    this.locate();
  }

  /** Finds the segment of `next` and computes its instant; IDs beyond the shape get none (the plan ends). */
  private locate(): void {
    const id = this.next;
    if (id > this.p.to) return;
    const k = id - this.p.baseId;
    const segs = this.p.segments;
    while (this.si < segs.length && k >= segs[this.si]!.k + segs[this.si]!.n) {
      this.si++;
      this.walk = undefined;
    }
    const seg = segs[this.si];
    if (!seg || k < seg.k) {
      this.next = this.p.to + 1;
      return;
    }
    if (seg.seed !== undefined) this.walk ??= new PoissonWalk(seg);
    this.at = this.p.t0Ms + offsetOf(seg, k, this.walk);
  }

  get id(): number | undefined {
    return this.next <= this.p.to ? this.next : undefined;
  }
  get atMs(): number {
    return this.at;
  }
  get remaining(): number {
    return this.next > this.p.to ? 0 : Math.floor((this.p.to - this.next) / this.p.step) + 1;
  }
  get lastAtMs(): number {
    const last = this.p.segments[this.p.segments.length - 1];
    return last ? this.p.t0Ms + last.t + last.d : this.p.t0Ms;
  }
  advance(): void {
    this.next += this.p.step;
    this.locate();
  }
  cancel(): number {
    const n = this.remaining;
    this.next = this.p.to + 1;
    return n;
  }
}

/** Whether a plan carries a shape. */
export function isShaped(p: RangePlan): p is ShapedPlan {
  return Array.isArray((p as Partial<ShapedPlan>).segments);
}

/** The cluster-wide instant (ms after t0) of user `k` of a shape: what tests and benchmarks compare starts to. */
export function plannedOffsetMs(shape: Pick<LoadShape, "segments">, k: number): number | undefined {
  const seg = shape.segments.find((s) => k >= s.k && k < s.k + s.n);
  if (!seg) return undefined;
  const walk = seg.seed !== undefined ? new PoissonWalk(seg) : undefined;
  return offsetOf(seg, k, walk);
}

/**
 * Paces a shape's ramp-downs: every `tickMs` it asks `remove` for the users due by now (highest first, graceful),
 * so a fall from 1000 to 0 over 30 s removes about 33 a second; a few calls a second, never one per user.
 */
export class RemovalDriver {
  private timer: TimerHandle | undefined;
  private done = 0;
  private busy = false;
  private readonly total: number;

  constructor(
    private readonly t0Ms: number,
    private readonly removals: ShapeRemoval[],
    private readonly remove: (n: number) => Promise<unknown> | unknown,
    private readonly onError: (e: unknown) => void,
    private readonly tickMs = 100,
    private readonly clock: Clock = systemClock,
  ) {
    this.total = removals.reduce((s, r) => s + r.n, 0);
  }

  start(): this {
    if (this.total > 0) {
      this.timer = this.clock.setInterval(() => void this.tick(), this.tickMs, { unref: true });
    }
    return this;
  }

  /** Users due for removal at `nowMs`. */
  due(nowMs: number): number {
    let n = 0;
    for (const r of this.removals) n += Math.floor(r.n * Math.min(1, Math.max(0, (nowMs - this.t0Ms - r.t) / r.d)));
    return n;
  }

  private async tick(): Promise<void> {
    if (this.busy) return;
    const want = this.due(this.clock.now()) - this.done;
    if (want <= 0) return;
    this.busy = true;
    try {
      await this.remove(want);
      this.done += want;
      if (this.done >= this.total) this.stop();
    } catch (e) {
      this.stop();
      this.onError(e);
    } finally {
      this.busy = false;
    }
  }

  stop(): void {
    this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** What the `do` event (annotations, run store, report) says about a run's shape and mix: only what is set. */
export function shapeView(s: ShapeSettings & { mix?: Record<string, number> }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (s.stages.length) out.stages = s.stages;
  if (s.arrival_rate.length) {
    out.arrival_rate = s.arrival_rate;
    out.arrival_process = s.arrival_process;
  }
  if (s.mix && Object.keys(s.mix).length) out.mix = s.mix;
  return out;
}
