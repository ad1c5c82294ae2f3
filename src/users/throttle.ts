/**
 * Named rate limits (amoc_throttle) on one node: each throttle has a cluster-wide rate (`rate` per `intervalMs`)
 * and this node paces its share of it (`fraction`, set by the master from the nodes' shares; 1 on a local node).
 * Waiters are released at evenly spaced instants computed from absolute time, so the long-run rate is exact and a
 * late timer catches up rather than losing slots; idle time earns no burst. No network message per call.
 */
import { systemClock, type Clock, type TimerHandle } from "../clock.js";
import { AmocError, UsageError } from "../errors.js";
import type { GradualChange, ThrottleApi, ThrottleConfig } from "../scenario/throttle-api.js";

export type { GradualChange, ThrottleApi, ThrottleConfig } from "../scenario/throttle-api.js";

const DEFAULT_INTERVAL_MS = 60_000;

/** Normalizes a config to a rate per ms (0 = paused) with its interval for display. */
export function ratePerMs(cfg: ThrottleConfig | number): { rate: number; intervalMs: number; perMs: number } {
  const c: ThrottleConfig = typeof cfg === "number" ? { rate: cfg } : cfg;
  if (typeof c !== "object" || c === null) throw new UsageError("a throttle needs {rate, interval} or {interarrival}", "e.g. {rate: 1000, interval: 1000}");
  if (c.interarrival !== undefined) {
    if (typeof c.interarrival !== "number" || !(c.interarrival >= 0)) throw new UsageError(`interarrival must be ms >= 0, got ${JSON.stringify(c.interarrival)}`, "e.g. {interarrival: 10}");
    if (c.interarrival === Infinity) return { rate: 0, intervalMs: DEFAULT_INTERVAL_MS, perMs: 0 };
    return { rate: c.interarrival === 0 ? Infinity : DEFAULT_INTERVAL_MS / c.interarrival, intervalMs: DEFAULT_INTERVAL_MS, perMs: c.interarrival === 0 ? Infinity : 1 / c.interarrival };
  }
  const rate = c.rate;
  const intervalMs = c.interval ?? DEFAULT_INTERVAL_MS;
  if (typeof rate !== "number" || !(rate >= 0)) throw new UsageError(`rate must be a number >= 0, got ${JSON.stringify(rate)}`, "e.g. {rate: 1000, interval: 1000}");
  if (typeof intervalMs !== "number" || !(intervalMs > 0)) throw new UsageError(`interval must be ms > 0, got ${JSON.stringify(c.interval)}`, "e.g. {rate: 1000, interval: 1000}");
  return { rate, intervalMs, perMs: rate / intervalMs };
}

interface Waiter {
  resolve: () => void;
  reject: (e: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** One node's pacer for one throttle. */
export class LocalThrottle {
  private queue: Waiter[] = [];
  private head = 0;
  private nextAtMs = 0;
  private timer: TimerHandle | undefined;
  private gradual: TimerHandle | undefined;
  paused = false;
  /** Actions released so far on this node. */
  released = 0;

  constructor(
    readonly name: string,
    /** Cluster-wide actions per ms (Infinity = unlimited, 0 = paused). */
    public clusterPerMs: number,
    public intervalMs: number,
    private fraction: number,
    private readonly clock: Clock = systemClock,
  ) {}

  /** This node's rate (actions per ms). */
  get localPerMs(): number {
    return this.paused ? 0 : this.clusterPerMs * this.fraction;
  }

  setFraction(f: number): void {
    this.fraction = f;
    this.pump();
  }
  setRate(perMs: number, intervalMs: number): void {
    this.clusterPerMs = perMs;
    this.intervalMs = intervalMs;
    this.pump();
  }
  setPaused(p: boolean): void {
    this.paused = p;
    this.pump();
  }

  /** Steps the rate from `from` to `to` per interval, locally: no message per step. */
  gradually(g: GradualChange): void {
    this.clock.clearInterval(this.gradual);
    const steps = Math.max(1, Math.round(g.steps ?? Math.max(1, g.overMs / 100)));
    const iv = g.interval ?? this.intervalMs;
    let i = 0;
    this.setRate(g.from / iv, iv);
    this.gradual = this.clock.setInterval(
      () => {
        i++;
        this.setRate((g.from + ((g.to - g.from) * i) / steps) / iv, iv);
        if (i >= steps) {
          this.clock.clearInterval(this.gradual);
          this.gradual = undefined;
        }
      },
      g.overMs / steps,
      { unref: true },
    );
  }

  wait(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
    const now = this.clock.now();
    const per = this.localPerMs;
    if (this.head === this.queue.length && per > 0) {
      if (per === Infinity) {
        this.released++;
        return Promise.resolve();
      }
      // idle time earns no burst: the next slot is never earlier than now
      const gap = 1 / per;
      if (this.nextAtMs < now) this.nextAtMs = now;
      if (this.nextAtMs <= now) {
        this.nextAtMs += gap;
        this.released++;
        return Promise.resolve();
      }
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { resolve, reject, signal };
      if (signal) {
        w.onAbort = () => {
          const i = this.queue.indexOf(w, this.head);
          if (i >= 0) this.queue.splice(i, 1);
          reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
        };
        signal.addEventListener("abort", w.onAbort, { once: true });
      }
      this.queue.push(w);
      // a waiter joining a queue keeps its pace; only the first one after idle time starts it
      if (this.queue.length - this.head === 1) this.pump();
    });
  }

  /**
   * Releases every waiter whose slot has come, then sleeps until the next slot. A late timer (`fromTimer`) catches
   * up every slot it missed; any other call (a rate change, resume, a first waiter) starts from now: no burst.
   */
  private pump(fromTimer = false): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const per = this.localPerMs;
    if (this.head === this.queue.length || per <= 0) return this.compact();
    const now = this.clock.now();
    if (per === Infinity) {
      while (this.head < this.queue.length) this.release();
      return this.compact();
    }
    const gap = 1 / per;
    if (!fromTimer && this.nextAtMs < now) this.nextAtMs = now;
    while (this.head < this.queue.length && this.nextAtMs <= now) {
      this.nextAtMs += gap;
      this.release();
    }
    this.compact();
    if (this.head < this.queue.length) {
      this.timer = this.clock.setTimeout(() => this.pump(true), Math.max(1, Math.ceil(this.nextAtMs - now)));
    }
  }

  private release(): void {
    const w = this.queue[this.head++]!;
    if (w.signal && w.onAbort) w.signal.removeEventListener("abort", w.onAbort);
    this.released++;
    w.resolve();
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }

  /** How many callers wait. */
  get waiting(): number {
    return this.queue.length - this.head;
  }

  /** Stops: every waiter is rejected with `why`. */
  stop(why: Error): void {
    this.clock.clearTimeout(this.timer);
    this.clock.clearInterval(this.gradual);
    this.timer = this.gradual = undefined;
    const q = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    for (const w of q) {
      if (w.signal && w.onAbort) w.signal.removeEventListener("abort", w.onAbort);
      w.reject(why);
    }
  }
}

/** The throttles of one node; `fraction` is this node's share of every cluster-wide rate. */
export class ThrottleRegistry implements ThrottleApi {
  private readonly throttles = new Map<string, LocalThrottle>();

  constructor(
    private fraction = 1,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Per throttle, this node's share of its group's rate (throttles whose rate was given to a group of nodes). */
  private groupShares: Record<string, number> = {};

  /** Sets this node's share (the master's split), and the shares of grouped throttles; applies to every throttle. */
  setFraction(f: number, groups: Record<string, number> = this.groupShares): void {
    if (!(f >= 0 && f <= 1)) return;
    this.fraction = f;
    this.groupShares = groups;
    for (const t of this.throttles.values()) t.setFraction(this.shareOf(t.name));
  }

  private shareOf(name: string): number {
    return this.groupShares[name] ?? this.fraction;
  }

  get share(): number {
    return this.fraction;
  }

  private get(name: string): LocalThrottle {
    const t = this.throttles.get(name);
    if (!t) throw new AmocError("THROTTLE_UNKNOWN", `no throttle named '${name}' is started on this node`, "start it in init (ctx.throttle.start(name, {rate, interval})) or with the throttles setting");
    return t;
  }

  start(name: string, cfg: ThrottleConfig | number): "started" | "already_started" {
    if (typeof name !== "string" || name === "") throw new UsageError("a throttle needs a name", "e.g. ctx.throttle.start('messages', {rate: 100, interval: 1000})");
    const r = ratePerMs(cfg);
    const cur = this.throttles.get(name);
    if (cur) {
      if (Math.abs(cur.clusterPerMs - r.perMs) > 1e-12 && !(cur.clusterPerMs === Infinity && r.perMs === Infinity)) throw new AmocError("THROTTLE_RECONFIGURED", `throttle '${name}' runs at another rate`, "use changeRate to change a running throttle");
      return "already_started";
    }
    this.throttles.set(name, new LocalThrottle(name, r.perMs, r.intervalMs, this.shareOf(name), this.clock));
    return "started";
  }

  wait(name: string, signal?: AbortSignal): Promise<void> {
    const t = this.throttles.get(name);
    if (!t) return Promise.reject(this.unknown(name));
    return t.wait(signal);
  }

  private unknown(name: string): AmocError {
    try {
      this.get(name);
    } catch (e) {
      return e as AmocError;
    }
    return new AmocError("THROTTLE_UNKNOWN", name, "");
  }

  changeRate(name: string, cfg: ThrottleConfig | number): void {
    const r = ratePerMs(cfg);
    this.get(name).setRate(r.perMs, r.intervalMs);
  }
  changeRateGradually(name: string, g: GradualChange): void {
    if (![g.from, g.to, g.overMs].every((x) => typeof x === "number" && x >= 0)) throw new UsageError("changeRateGradually needs from, to and overMs >= 0", "e.g. {from: 100, to: 1000, overMs: 60000, steps: 60}");
    this.get(name).gradually(g);
  }
  pause(name: string): void {
    this.get(name).setPaused(true);
  }
  resume(name: string): void {
    this.get(name).setPaused(false);
  }
  stop(name: string): void {
    const t = this.get(name);
    this.throttles.delete(name);
    t.stop(new AmocError("THROTTLE_UNKNOWN", `throttle '${name}' was stopped`, "start it again to wait on it"));
  }

  /** Every throttle: cluster-wide rate per interval, this node's share, waiting and released counts. */
  list(): Array<{ name: string; rate: number; interval: number; paused: boolean; share: number; local_rate: number; waiting: number; released: number }> {
    return [...this.throttles.values()].map((t) => ({ name: t.name, rate: t.clusterPerMs * t.intervalMs, interval: t.intervalMs, paused: t.paused, share: this.shareOf(t.name), local_rate: t.localPerMs * t.intervalMs, waiting: t.waiting, released: t.released }));
  }

  /** Stops every throttle (end of run). */
  clear(): void {
    for (const name of [...this.throttles.keys()]) this.stop(name);
  }
}

/** A throttle op as it travels from an operator to the nodes. */
export type ThrottleOp =
  | { op: "start"; name: string; config: ThrottleConfig }
  | { op: "change_rate"; name: string; config: ThrottleConfig }
  | { op: "change_rate_gradually"; name: string; gradual: GradualChange }
  | { op: "pause" | "resume" | "stop"; name: string }
  | { op: "list" };

/** Applies an op to a registry; returns what the node reports. */
export function applyThrottleOp(reg: ThrottleRegistry, o: ThrottleOp): unknown {
  switch (o.op) {
    case "start":
      return { result: reg.start(o.name, o.config) };
    case "change_rate":
      reg.changeRate(o.name, o.config);
      break;
    case "change_rate_gradually":
      reg.changeRateGradually(o.name, o.gradual);
      break;
    case "pause":
      reg.pause(o.name);
      break;
    case "resume":
      reg.resume(o.name);
      break;
    case "stop":
      reg.stop(o.name);
      break;
    case "list":
      break;
    default:
      throw new UsageError(`unknown throttle op ${JSON.stringify((o as { op: unknown }).op)}`, "ops: start, change_rate, change_rate_gradually, pause, resume, stop, list");
  }
  return { throttles: reg.list() };
}
