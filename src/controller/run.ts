/** One run on a node: its scenario, settings and user pool, the user IDs it has issued, and what it reports. */
import type { NodeSettings } from "../config/schema.js";
import { checkUpdate } from "../config/variables.js";
import type { LoadedScenario } from "../scenario/loader.js";
import type { Telemetry } from "../telemetry.js";
import { RangeCursor, nowMs, type RangePlan } from "../users/schedule.js";
import { ShapeCursor, isShaped, type RemovalDriver } from "../shapes/stages.js";
import type { ErrorSummary } from "../users/crash-tally.js";
import { UserPool, type PoolOptions, type UserCounts } from "../users/user-pool.js";
import { runSettingsView } from "./run-settings.js";

/** The part of a node's status that describes its run (all empty or null without one). */
export interface RunStatus {
  scenario: string | null;
  users: UserCounts;
  first_id: number | null;
  last_id: number | null;
  settings: Record<string, unknown>;
  errors: ErrorSummary[];
  uptime_ms: number | null;
}

/** What a run's user pool is built with besides the run's own scenario, state, variables and settings. */
export type PoolDeps = Omit<PoolOptions, "scenario" | "state" | "vars" | "settings">;

/** The run part of the status of a node that has no run. */
export function noRunStatus(): RunStatus {
  return {
    scenario: null,
    users: { running: 0, started: 0, finished: 0, crashed: 0, removed: 0, pending: 0, removing: 0 },
    first_id: null,
    last_id: null,
    settings: {},
    errors: [],
    uptime_ms: null,
  };
}

// at module level: the per-second timer allocates no closure
const reportUsers = (run: Run) => run.reportUsers();

/** A prepared run (after `init`); the controller decides when its users start and stop. */
export class Run {
  readonly pool: UserPool;
  firstId: number | null = null;
  lastId: number | null = null;
  readonly startedAtMs = Date.now();
  /** Paces the ramp-downs of a closed-model shape (stages). */
  removals: RemovalDriver | undefined;
  private readonly telemetry: Telemetry;
  private usersTimer: NodeJS.Timeout | undefined;

  /** Builds the run's user pool and emits its user counts every second until `finalCounts` or `dispose`. */
  constructor(
    readonly scenario: LoadedScenario,
    readonly settings: NodeSettings,
    /** The settings given for this run (run keys and variables), kept for status and late joiners. */
    readonly given: Record<string, unknown>,
    readonly vars: Record<string, unknown>,
    /** What the scenario's `init` returned. */
    readonly state: unknown,
    deps: PoolDeps,
  ) {
    this.pool = new UserPool({ scenario: scenario.module, state, vars, settings, ...deps });
    this.telemetry = deps.telemetry;
    this.usersTimer = setInterval(reportUsers, 1000, this);
    this.usersTimer.unref();
  }

  /** Schedules this node's share of a range on the plan's instants; returns how many users that is. */
  startRange(plan: RangePlan): number {
    const c = isShaped(plan) ? new ShapeCursor(plan) : new RangeCursor(plan);
    const n = c.remaining;
    if (n === 0) return 0;
    const lastId = plan.to - ((plan.to - plan.from - plan.offset) % plan.step);
    this.firstId = Math.min(this.firstId ?? Infinity, plan.from + plan.offset);
    this.lastId = Math.max(this.lastId ?? 0, lastId);
    this.pool.schedule(c);
    return n;
  }

  /** `n` more users after the highest ID ever issued, starting after the users still waiting to start. */
  addPlan(n: number): RangePlan {
    const from = (this.lastId ?? 0) + 1;
    const ia = this.settings.interarrival;
    const after = this.pool.lastPlannedAtMs();
    const t0 = Math.max(nowMs(), after === undefined ? 0 : after + ia);
    return { from, to: from + n - 1, step: 1, offset: 0, t0Ms: t0, baseId: from, interarrivalMs: ia };
  }

  /** Records that IDs up to `lastId` were issued elsewhere (a cluster master's range). */
  noteIssued(lastId: number): void {
    this.lastId = Math.max(this.lastId ?? 0, lastId);
  }

  /** Checks and applies a live change of scenario variables; returns what changed. */
  updateVariables(update: Record<string, unknown>): Record<string, unknown> {
    const changed = checkUpdate(this.scenario.variables, update, this.scenario.file);
    Object.assign(this.vars, changed);
    Object.assign(this.given, changed);
    return changed;
  }

  /** This run's part of the node's status. */
  status(): RunStatus {
    return {
      scenario: this.scenario.name,
      users: this.pool.counts(),
      first_id: this.firstId,
      last_id: this.lastId,
      settings: runSettingsView(this.settings, this.vars),
      errors: this.pool.errorSummary(),
      uptime_ms: Date.now() - this.startedAtMs,
    };
  }

  /** @internal emits the user counts (every second while the run runs). */
  reportUsers(): void {
    const c = this.pool.counts();
    this.telemetry.emit("controller.users", {
      running: c.running,
      started: c.started,
      finished: c.finished,
      crashed: c.crashed,
      removed: c.removed,
    });
  }

  /** The users have stopped: the per-second counts end with these. */
  finalCounts(): void {
    clearInterval(this.usersTimer);
    this.reportUsers();
  }

  /** Stops the ramp-downs and the counts, and releases the pool's timers. */
  dispose(): void {
    this.removals?.stop();
    clearInterval(this.usersTimer);
    this.usersTimer = undefined;
    this.pool.dispose();
  }
}
