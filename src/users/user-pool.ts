/** UserPool: starts users on their planned instants, counts them, removes the highest IDs, and tallies crashes. */
import { systemClock, type Clock, type TimerHandle } from "../clock.js";
import type { NodeSettings } from "../config/schema.js";
import { CrashTally, type ErrorSummary } from "./crash-tally.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type { ScenarioModule, ThrottleApi } from "../scenario/api.js";
import type { Telemetry, UserEndReason } from "../telemetry.js";
import { IdTable } from "./id-table.js";
import type { CoordinatorClient } from "../coordinator/coordinator.js";
import type { StartCursor } from "./schedule.js";
import { SleepQueue } from "./sleep-queue.js";
import { StartScheduler } from "./start-scheduler.js";
import { GONE, UserActor, type ActorHost } from "./user-actor.js";

/** Forced removal drops a user this long after aborting it, whether or not `start` returned. */
export const FORCE_GRACE_MS = 2000;
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
  /** Time for start instants, repeat intervals, `ctx.sleep` and the forced-removal grace (tests pass a fake one). */
  clock?: Clock;
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
  readonly clock: Clock;
  readonly sleeps: SleepQueue;
  private readonly telemetry: Telemetry;
  private readonly forceGraceMs: number;

  private readonly running = new IdTable<UserActor>();
  private readonly starts: StartScheduler;
  private started = 0;
  private finished = 0;
  private crashed = 0;
  private removed = 0;
  private removing = 0;
  private readonly crashes: CrashTally;
  private idleWaiters: Array<() => void> = [];
  private readonly graceTimers = new Set<TimerHandle>();

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
    this.clock = o.clock ?? systemClock;
    this.sleeps = new SleepQueue(this.clock);
    this.crashes = new CrashTally(o.log);
    this.starts = new StartScheduler(
      (id, atMs) => this.startUser(id, atMs),
      () => this.checkIdle(),
      this.clock,
    );
  }

  repeatNum(): number {
    return this.settings.repeat_num;
  }
  repeatIntervalMs(): number {
    return this.settings.repeat_interval;
  }

  /** Adds a start plan; its users start on their instants, in ID order. */
  schedule(cursor: StartCursor): void {
    this.starts.add(cursor);
  }

  /** Instant the last planned user starts at, or undefined when nothing is pending. */
  lastPlannedAtMs(): number | undefined {
    return this.starts.lastPlannedAtMs();
  }

  private startUser(id: number, atMs: number): void {
    if (this.running.has(id)) {
      this.log.warn({ msg: "user_already_running", user: id });
      return;
    }
    const actor = new UserActor(id, this);
    this.running.set(id, actor);
    this.started++;
    if (this.telemetry.has("user.started")) this.telemetry.emit("user.started", { id, lagMs: this.clock.now() - atMs });
    actor.run();
  }

  /** Called by an actor when it ends. */
  ended(actor: UserActor, reason: UserEndReason, error?: unknown): void {
    if (actor.flags & GONE) return; // already dropped after the forced grace period
    if (actor.stopping) this.removing--;
    actor.flags |= GONE;
    this.running.delete(actor.id);
    if (reason === "crashed") {
      this.crashed++;
      const c = this.crashes.record(actor.id, actor.phase, error, this.clock.now());
      this.telemetry.emit("user.crashed", { id: actor.id, ...c });
    } else if (reason === "removed") this.removed++;
    else this.finished++;
    this.telemetry.emit("user.stopped", { id: actor.id, reason });
    this.checkIdle();
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
      const t = this.clock.setTimeout(() => {
        this.graceTimers.delete(t);
        for (const a of forced) this.ended(a, "removed");
      }, this.forceGraceMs);
      this.graceTimers.add(t);
    }
    return count;
  }

  /** Cancels every pending start; returns how many were cancelled. */
  cancelPending(): number {
    const n = this.starts.cancel();
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
    return this.starts.pendingCount();
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
    return this.crashes.linesLeftOut;
  }

  /** The crashes by reason, the most frequent first. */
  errorSummary(): ErrorSummary[] {
    return this.crashes.summary();
  }

  /** Releases timers; used when a pool is discarded. */
  dispose(): void {
    this.cancelPending();
    for (const t of this.graceTimers) this.clock.clearTimeout(t);
    this.graceTimers.clear();
  }
}
