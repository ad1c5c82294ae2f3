/**
 * Named rate limits (amoc_throttle) on one node: each throttle has a cluster-wide rate (`rate` per `intervalMs`)
 * and this node paces its share of it (`fraction`, set by the master from the nodes' shares; 1 on a local node).
 * The pacing itself is in local-throttle.ts. No network message per call.
 */
import type { Clock } from "../clock.js";
import { MAX_TIMER_MS } from "../config/formats.js";
import { AmocError, UsageError } from "../errors.js";
import type { GradualChange, ThrottleApi, ThrottleConfig } from "../scenario/throttle-api.js";
import { LocalThrottle, ratePerMs } from "./local-throttle.js";

export type { GradualChange, ThrottleApi, ThrottleConfig } from "../scenario/throttle-api.js";

/** The throttles of one node; `fraction` is this node's share of every cluster-wide rate. */
export class ThrottleRegistry implements ThrottleApi {
  private readonly throttles = new Map<string, LocalThrottle>();

  constructor(
    private fraction = 1,
    /** Time for the pacers (default: theirs, the system clock). */
    private readonly clock?: Clock,
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
    if (!t)
      throw new AmocError(
        "THROTTLE_UNKNOWN",
        `no throttle named '${name}' is started on this node`,
        "start it in init (ctx.throttle.start(name, {rate, interval})) or with the throttles setting",
      );
    return t;
  }

  start(name: string, cfg: ThrottleConfig | number): "started" | "already_started" {
    if (typeof name !== "string" || name === "")
      throw new UsageError(
        "a throttle needs a name",
        "e.g. ctx.throttle.start('messages', {rate: 100, interval: 1000})",
      );
    const r = ratePerMs(cfg);
    const cur = this.throttles.get(name);
    if (cur) {
      if (Math.abs(cur.clusterPerMs - r.perMs) > 1e-12 && !(cur.clusterPerMs === Infinity && r.perMs === Infinity))
        throw new AmocError(
          "THROTTLE_RECONFIGURED",
          `throttle '${name}' runs at another rate`,
          "use changeRate to change a running throttle",
        );
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
    if (![g.from, g.to, g.overMs].every((x) => typeof x === "number" && x >= 0))
      throw new UsageError(
        "changeRateGradually needs from, to and overMs >= 0",
        "e.g. {from: 100, to: 1000, overMs: 60000, steps: 60}",
      );
    checkGradualTimes(g);
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
  list(): Array<{
    name: string;
    rate: number;
    interval: number;
    paused: boolean;
    share: number;
    local_rate: number;
    waiting: number;
    released: number;
  }> {
    return [...this.throttles.values()].map((t) => ({
      name: t.name,
      rate: t.clusterPerMs * t.intervalMs,
      interval: t.intervalMs,
      paused: t.paused,
      share: this.shareOf(t.name),
      local_rate: t.localPerMs * t.intervalMs,
      waiting: t.waiting,
      released: t.released,
    }));
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
      throw new UsageError(
        `unknown throttle op ${JSON.stringify((o as { op: unknown }).op)}`,
        "ops: start, change_rate, change_rate_gradually, pause, resume, stop, list",
      );
  }
  return { throttles: reg.list() };
}

/**
 * A gradual change Node's timers can carry out: overMs, interval and each step within MAX_TIMER_MS, a step at
 * least 1 ms (past those a timer fires at once and the rate jumps to its target instead of ramping).
 */
function checkGradualTimes(g: GradualChange): void {
  const hint = "e.g. {from: 100, to: 1000, overMs: 60000, steps: 60}";
  if (g.overMs > MAX_TIMER_MS || (g.interval !== undefined && !(g.interval > 0 && g.interval <= MAX_TIMER_MS)))
    throw new UsageError(`overMs and interval must be ms in 1..${MAX_TIMER_MS} (about 24 days)`, hint);
  if (g.steps !== undefined && !(Number.isInteger(g.steps) && g.steps >= 1))
    throw new UsageError(`steps must be an integer >= 1, got ${JSON.stringify(g.steps)}`, hint);
  const steps = g.steps ?? Math.max(1, Math.round(g.overMs / 100));
  if (g.overMs > 0 && g.overMs / steps < 1)
    throw new UsageError(
      `${steps} steps over ${g.overMs} ms is a step under 1 ms`,
      "use fewer steps or a longer overMs",
    );
}
