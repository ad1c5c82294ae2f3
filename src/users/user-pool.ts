/** UserPool: starts users on their planned instants, counts them, removes the highest IDs, and reports crashes. */
import type { NodeSettings } from "../config/schema.js";
import { AmocError, errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type { ScenarioModule, ThrottleApi } from "../scenario/api.js";
import type { Telemetry, UserEndReason } from "../telemetry.js";
import { IdTable } from "./id-table.js";
import type { CoordinatorClient } from "./coordinator.js";
import { nowMs, type StartCursor } from "./schedule.js";
import { GONE, UserActor, type ActorHost } from "./user-actor.js";

/** Forced removal drops a user this long after aborting it, whether or not `start` returned. */
export const FORCE_GRACE_MS = 2000;
/** Distinct error kinds kept for the summary; the rest are counted under one "other errors" entry. */
const MAX_ERROR_KINDS = 50;
/**
 * One event-loop turn of starting users (a scheduler pass plus the work the users it started queued: their promise
 * continuations, I/O, timers, garbage collection) should take about this long. The pass cannot know what a start
 * queues until it ran, so it starts as many users as the last turns' cost per user allows (FIRST_PASS_USERS before
 * any is known), and never runs longer than MAX_PASS_MS itself. So a node starting users at interarrival 0 keeps
 * answering (heartbeats, commands) however much each start costs.
 */
const TURN_TARGET_MS = 40;
const MAX_PASS_MS = 20;
const FIRST_PASS_USERS = 256;
const MIN_PASS_USERS = 16;
/** Users started between two looks at the clock. */
const CLOCK_EVERY = 16;

/** User counts of a pool. `started = running + finished + crashed + removed`. */
export interface UserCounts {
  running: number;
  started: number;
  finished: number;
  crashed: number;
  removed: number;
  /** Planned but not yet started. */
  pending: number;
  /** Running users selected for removal that have not ended yet (included in `running`). */
  removing: number;
}

/** One kind of crash, with how often it happened. */
export interface ErrorSummary {
  phase: string;
  message: string;
  count: number;
}

/** What a pool runs and how. */
export interface PoolOptions {
  scenario: ScenarioModule;
  state: unknown;
  vars: Record<string, unknown>;
  settings: NodeSettings;
  telemetry: Telemetry;
  metrics: Metrics;
  log: Logger;
  forceGraceMs?: number;
  /** The node's throttles, for `ctx.throttle`. */
  throttles?: ThrottleApi;
  /** The node's coordinator client, for `ctx.coordinate`. */
  coordinator?: CoordinatorClient;
}

/** The users of one run on one node. */
export class UserPool implements ActorHost {
  readonly start: ActorHost["start"];
  readonly state: unknown;
  readonly vars: Record<string, unknown>;
  readonly settings: NodeSettings;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly throttles: ThrottleApi | undefined;
  readonly coordinator: CoordinatorClient | undefined;
  private readonly telemetry: Telemetry;
  private readonly forceGraceMs: number;

  private readonly running = new IdTable<UserActor>();
  private readonly cursors: StartCursor[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** The last pass that yielded for its budget: when it began and how many it started (0: none measured yet). */
  private lastPass = { startMs: 0, users: 0 };
  /** Estimated cost of one start, pass and queued work together (ms); undefined until a turn was measured. */
  private perUserMs: number | undefined;
  private started = 0;
  private finished = 0;
  private crashed = 0;
  private removed = 0;
  private removing = 0;
  /** Crashes logged at debug only (the first of each kind is at warn): said once at the end of the run. */
  private crashesNotLogged = 0;
  private readonly errors = new Map<string, ErrorSummary>();
  private idleWaiters: Array<() => void> = [];
  private readonly graceTimers = new Set<NodeJS.Timeout>();

  constructor(o: PoolOptions) {
    this.start = o.scenario.start as ActorHost["start"];
    this.state = o.state;
    this.vars = o.vars;
    this.settings = o.settings;
    this.telemetry = o.telemetry;
    this.metrics = o.metrics;
    this.log = o.log;
    this.forceGraceMs = o.forceGraceMs ?? FORCE_GRACE_MS;
    this.throttles = o.throttles;
    this.coordinator = o.coordinator;
  }

  repeatNum(): number {
    return this.settings.repeat_num;
  }
  repeatIntervalMs(): number {
    return this.settings.repeat_interval;
  }

  /** Adds a start plan; its users start on their instants, in ID order. */
  schedule(cursor: StartCursor): void {
    if (cursor.remaining === 0) return;
    this.cursors.push(cursor);
    this.arm(0);
  }

  /** Instant the last planned user starts at, or undefined when nothing is pending. */
  lastPlannedAtMs(): number | undefined {
    let last: number | undefined;
    for (const c of this.cursors) if (c.remaining > 0) last = Math.max(last ?? -Infinity, c.lastAtMs);
    return last;
  }

  private arm(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (delayMs <= 0) {
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.tick();
      });
    } else {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.tick();
      }, delayMs);
    }
  }

  /**
   * Starts every due user, yielding when the pass exceeds its budget (what the work queued since the last pass
   * left of the turn's target), then sleeps until the next is due.
   */
  private tick(): void {
    const passStart = nowMs();
    const last = this.lastPass;
    if (last.users > 0) {
      // the whole turn since the last pass began: its starts, and what they queued until now
      const cost = (passStart - last.startMs) / last.users;
      this.perUserMs = this.perUserMs === undefined ? cost : 0.5 * this.perUserMs + 0.5 * cost;
      last.users = 0;
    }
    const maxUsers = this.perUserMs === undefined ? FIRST_PASS_USERS : Math.max(MIN_PASS_USERS, Math.floor(TURN_TARGET_MS / this.perUserMs));
    let now = passStart;
    let n = 0;
    for (;;) {
      let best: StartCursor | undefined;
      for (const c of this.cursors) if (c.id !== undefined && (!best || c.atMs < best.atMs)) best = c;
      if (!best) {
        this.cursors.length = 0;
        this.checkIdle();
        return;
      }
      if (best.atMs > now) {
        now = nowMs();
        if (best.atMs > now) {
          this.arm(Math.max(1, Math.floor(best.atMs - now)));
          return;
        }
      }
      const id = best.id as number;
      const at = best.atMs;
      best.advance();
      this.startUser(id, at);
      if (++n >= maxUsers || n % CLOCK_EVERY === 0) {
        now = nowMs();
        if (n >= maxUsers || now - passStart > MAX_PASS_MS) {
          this.lastPass = { startMs: passStart, users: n };
          this.arm(0);
          return;
        }
      }
    }
  }

  private startUser(id: number, atMs: number): void {
    if (this.running.has(id)) {
      this.log.warn({ msg: "user_already_running", user: id });
      return;
    }
    const actor = new UserActor(id, this);
    this.running.set(id, actor);
    this.started++;
    if (this.telemetry.has("user.started")) this.telemetry.emit("user.started", { id, lagMs: nowMs() - atMs });
    actor.run();
  }

  /** Called by an actor when it ends. */
  ended(actor: UserActor, reason: UserEndReason, error?: unknown): void {
    if (actor.flags & GONE) return; // already dropped after the forced grace period
    if (actor.stopping) this.removing--;
    actor.flags |= GONE;
    this.running.delete(actor.id);
    if (reason === "crashed") this.recordCrash(actor, error);
    else if (reason === "removed") this.removed++;
    else this.finished++;
    this.telemetry.emit("user.stopped", { id: actor.id, reason });
    this.checkIdle();
  }

  private recordCrash(actor: UserActor, error: unknown): void {
    this.crashed++;
    const phase = error instanceof AmocError && "phase" in error && typeof error.phase === "string" ? error.phase : actor.phase;
    const message = errorMessage(error);
    const key = `${phase}\u0000${message}`;
    let e = this.errors.get(key);
    if (!e) {
      if (this.errors.size >= MAX_ERROR_KINDS) {
        e = this.errors.get("other") ?? { phase: "*", message: "other errors", count: 0 };
        this.errors.set("other", e);
      } else {
        e = { phase, message, count: 0 };
        this.errors.set(key, e);
        // the first of each kind at warn, the rest at debug: nothing per user above debug
        this.log.warn({ msg: "user_crashed", user: actor.id, phase, err: message });
      }
    } else {
      this.crashesNotLogged++;
      this.log.debug({ msg: "user_crashed", user: actor.id, phase, err: message });
    }
    e.count++;
    this.telemetry.emit("user.crashed", { id: actor.id, phase, message });
  }

  /**
   * The `n` highest running IDs a removal may select, highest first: users already being removed are never picked
   * (two quick removals never pick the same users). A forced removal that finds fewer than `n` such users escalates
   * users being removed gracefully, highest first, to make up the number (they are not counted again).
   */
  removable(n: number, force: boolean): number[] {
    if (n <= 0) return [];
    const fresh = this.highest(n, (a) => !a.stopping);
    if (!force || fresh.length >= n) return fresh;
    return [...fresh, ...this.highest(n - fresh.length, (a) => a.stopping && !a.forced)];
  }

  private highest(n: number, pick: (a: UserActor) => boolean): number[] {
    const ids = new Float64Array(this.running.size);
    let k = 0;
    this.running.forEach((a) => {
      if (pick(a)) ids[k++] = a.id;
    });
    const sorted = ids.subarray(0, k).sort();
    const chosen: number[] = [];
    for (let i = k - 1; i >= 0 && chosen.length < n; i--) chosen.push(sorted[i] as number);
    return chosen;
  }

  /** Removes the `n` highest running IDs not already being removed; returns how many were newly selected. */
  remove(n: number, force: boolean): number {
    return this.removeIds(this.removable(n, force), force);
  }

  /**
   * Removes the given IDs (those not running, or already being removed the same way, are skipped). Returns how many
   * were newly selected: escalating a graceful removal to a forced one does not count the user again.
   */
  removeIds(ids: Iterable<number>, force: boolean): number {
    const forced: UserActor[] = [];
    let count = 0;
    for (const id of ids) {
      const a = this.running.get(id);
      if (!a || a.forced || (a.stopping && !force)) continue;
      if (!a.stopping) {
        count++;
        this.removing++;
      }
      if (force) {
        a.abort();
        forced.push(a);
      } else a.requestStop();
    }
    if (forced.length) {
      // one timer per call, not per user
      const t = setTimeout(() => {
        this.graceTimers.delete(t);
        for (const a of forced) this.ended(a, "removed");
      }, this.forceGraceMs);
      this.graceTimers.add(t);
    }
    return count;
  }

  /** Cancels every pending start; returns how many were cancelled. */
  cancelPending(): number {
    let n = 0;
    for (const c of this.cursors) n += c.cancel();
    this.cursors.length = 0;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = this.immediate = undefined;
    this.checkIdle();
    return n;
  }

  /** Cancels pending starts and force-removes everyone; resolves when no user is left (at most the grace period). */
  async stopAll(): Promise<void> {
    this.cancelPending();
    this.removeIds(this.running.keys(), true);
    await this.whenIdle();
  }

  /** Resolves when nothing is pending and nobody runs. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  isIdle(): boolean {
    return this.running.size === 0 && this.pendingCount() === 0;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.isIdle()) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const f of w) f();
  }

  pendingCount(): number {
    let n = 0;
    for (const c of this.cursors) n += c.remaining;
    return n;
  }

  /** The running IDs, ascending. */
  runningIds(): number[] {
    return this.running.keys().sort((a, b) => a - b);
  }

  counts(): UserCounts {
    return {
      running: this.running.size,
      started: this.started,
      finished: this.finished,
      crashed: this.crashed,
      removed: this.removed,
      pending: this.pendingCount(),
      removing: this.removing,
    };
  }

  /** How many crashes were not written at warn (only the first of each kind is). */
  crashLinesLeftOut(): number {
    return this.crashesNotLogged;
  }

  errorSummary(): ErrorSummary[] {
    return [...this.errors.values()].sort((a, b) => b.count - a.count);
  }

  /** Releases timers; used when a pool is discarded. */
  dispose(): void {
    this.cancelPending();
    for (const t of this.graceTimers) clearTimeout(t);
    this.graceTimers.clear();
  }
}
