/** The per-node state machine (idle → running → terminating → finished, plus error); the only writer of run state. */
import { loadNodeSettings } from "../config/load.js";
import { isRunKey, isSettingKey, type NodeSettings } from "../config/schema.js";
import { checkUpdate, resolveVariables } from "../config/variables.js";
import { AmocError, ScenarioError, StateError, UsageError, errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type { LoadedScenario } from "../scenario/loader.js";
import { loadRunScenario, mixOf } from "../users/mix.js";
import { sleepMs } from "../scenario/sleep.js";
import type { Telemetry } from "../telemetry.js";
import { RangeCursor, nowMs, type RangePlan } from "../users/schedule.js";
import { ThrottleRegistry } from "../users/throttle.js";
import { localCoordinator, type CoordinatorClient } from "../users/coordinator.js";
import { RemovalDriver, ShapeCursor, compileShape, isShaped, shapeView, type LoadShape } from "../users/stages.js";
import { UserPool, type ErrorSummary, type UserCounts } from "../users/user-pool.js";

export type ControllerState = "idle" | "running" | "terminating" | "finished" | "error";
/** Re-exported so the layers above (cluster, api) depend on the controller only, as DESIGN.md section 5 says. */
export { nowMs, type RangePlan } from "../users/schedule.js";
export { RemovalDriver, shapeView, type LoadShape } from "../users/stages.js";
export { CoordinatorHub, CoordinatorWaits, groupSpec, type CoordinatorClient, type GroupSpec, type HubMember } from "../users/coordinator.js";
export { applyThrottleOp, type ThrottleOp, type ThrottleRegistry } from "../users/throttle.js";
export type { ErrorSummary, UserCounts } from "../users/user-pool.js";

/** What a controller is built from. */
export interface ControllerDeps {
  settings: NodeSettings;
  env: NodeJS.ProcessEnv;
  /** Scenario variables from the config file. */
  fileVariables: Record<string, unknown>;
  telemetry: Telemetry;
  metrics: Metrics;
  log: Logger;
  forceGraceMs?: number;
  /** Emit run events (do/add/remove/stop/settings) for annotations; off on cluster workers, whose master announces. */
  announce?: boolean;
}

/** A scenario and settings checked and resolved, before any `init`. */
export interface ResolvedRun {
  scenario: LoadedScenario;
  settings: NodeSettings;
  vars: Record<string, unknown>;
}

/** A node's status, as printed by the console and returned by the API. */
export interface StatusReport {
  node: string;
  state: ControllerState;
  scenario: string | null;
  users: UserCounts;
  first_id: number | null;
  last_id: number | null;
  settings: Record<string, unknown>;
  errors: ErrorSummary[];
  error?: { code: string; message: string; hint: string };
  uptime_ms: number | null;
  /** Times a telemetry subscriber threw (a bug in it; logged once per subscriber as telemetry_subscriber_failed). */
  telemetry_failures?: number;
}

interface Run {
  scenario: LoadedScenario;
  settings: NodeSettings;
  /** The settings given for this run (run keys and variables), kept for status and late joiners. */
  given: Record<string, unknown>;
  vars: Record<string, unknown>;
  state: unknown;
  pool: UserPool;
  firstId: number | null;
  lastId: number | null;
  startedAtMs: number;
  /** Paces the ramp-downs of a closed-model shape (stages). */
  removals?: RemovalDriver;
}

const EMPTY_COUNTS: UserCounts = { running: 0, started: 0, finished: 0, crashed: 0, removed: 0, pending: 0, removing: 0 };

/** Checks a user ID argument. */
function userId(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw new UsageError(`${what} must be a positive integer, got ${JSON.stringify(v)}`, "user IDs are integers from 1");
  }
  return v;
}

/** Runs one scenario at a time on this node. */
export class Controller {
  private st: ControllerState = "idle";
  private run: Run | undefined;
  private lastError: AmocError | undefined;
  private busy = false;
  private usersTimer: NodeJS.Timeout | undefined;
  /** This node's throttles; its share of each cluster-wide rate is 1 alone, the master's split in a cluster. */
  readonly throttles = new ThrottleRegistry(1);
  /** This node's coordinator: hub and waits here alone; a cluster worker's goes through the master. */
  private coord: CoordinatorClient | undefined;

  constructor(private readonly deps: ControllerDeps) {}

  get state(): ControllerState {
    return this.st;
  }

  /** The coordinator users of this node join groups through. */
  get coordinator(): CoordinatorClient {
    return (this.coord ??= localCoordinator(this.deps.settings.node_name));
  }

  /** Routes this node's coordination elsewhere (a cluster worker: to the master's hub). */
  useCoordinator(c: CoordinatorClient): void {
    this.coord?.clear();
    this.coord = c;
  }

  get nodeName(): string {
    return this.deps.settings.node_name;
  }

  /** Starts scenario `name` with users `from..to`, one every `interarrival` ms. */
  async do(name: string, from: number, to: number, settings: Record<string, unknown> = {}): Promise<{ scenario: string; from: number; to: number; users: number }> {
    userId(from, "from");
    userId(to, "to");
    if (to < from) throw new UsageError(`'to' (${to}) is below 'from' (${from})`, "give a range like do('dummy', 1, 10)");
    const run = await this.prepare(name, settings);
    const shape = this.shapeOf(run.settings);
    // a load shape (stages / arrival_rate) says how many users start, and when: `to` follows from it
    if (shape) to = from + Math.max(1, shape.users) - 1;
    const t0Ms = nowMs();
    this.startRange({ from, to, step: 1, offset: 0, t0Ms, baseId: from, interarrivalMs: run.settings.interarrival, ...(shape ? { segments: shape.segments } : {}) });
    if (shape?.removals.length) run.removals = new RemovalDriver(t0Ms, shape.removals, (n) => this.remove(n), (e) => this.deps.log.warn({ msg: "stage_removal_failed", err: errorMessage(e) })).start();
    this.announce("do", { scenario: run.scenario.name, from, to, users: to - from + 1, ...shapeView(run.settings) });
    return { scenario: run.scenario.name, from, to, users: to - from + 1 };
  }

  /**
   * Loads the scenario, resolves settings and runs `init`, leaving the node `running` with no users.
   * `do` and cluster workers both start here. A failing `init` or bad settings leave the node in `error`.
   */
  async prepare(name: string, settings: Record<string, unknown> = {}): Promise<Run> {
    if (this.busy) throw new StateError("another command is still being processed", "wait for it to finish and retry");
    if (this.st === "running" || this.st === "terminating") {
      throw new StateError(`a run of '${this.run?.scenario.name}' is ${this.st}`, "stop it first (amoc_local.stop(), or stop() in the console), then start a new one");
    }
    if (typeof name !== "string") throw new UsageError("the scenario name must be a string", "e.g. do('dummy', 1, 10)");
    if (typeof settings !== "object" || settings === null || Array.isArray(settings)) {
      throw new UsageError("settings must be an object", "e.g. {interarrival: 0, dummy_sleep_ms: 100}");
    }
    this.busy = true;
    try {
      // an unknown scenario is a typo: report it and keep the current state
      const scenario = await loadRunScenario(name, mixOf(settings, this.deps.settings.mix), this.deps.settings.scenarios_dir);
      try {
        const { settings: nodeSettings, vars } = this.resolveSettings(scenario, settings);
        // a new run starts with no throttles: init and the throttles setting start them
        this.throttles.clear();
        this.coordinator.clear();
        const state = await this.runInit(scenario, vars, nodeSettings);
        for (const [name, cfg] of Object.entries(nodeSettings.throttles)) this.throttles.start(name, cfg);
        this.disposeRun();
        const pool = new UserPool({
          scenario: scenario.module,
          state,
          vars,
          settings: nodeSettings,
          telemetry: this.deps.telemetry,
          metrics: this.deps.metrics,
          log: this.deps.log,
          forceGraceMs: this.deps.forceGraceMs,
          throttles: this.throttles,
          coordinator: this.coordinator,
        });
        this.run = { scenario, settings: nodeSettings, given: { ...settings }, vars, state, pool, firstId: null, lastId: null, startedAtMs: Date.now() };
        this.lastError = undefined;
        this.setState("running");
        this.usersTimer = setInterval(() => this.emitUsers(), 1000);
        this.usersTimer.unref();
        return this.run;
      } catch (e) {
        this.lastError = e instanceof AmocError ? e : new ScenarioError("SCENARIO_INIT_FAILED", errorMessage(e), "see the log");
        // the previous run is over: its counts must not pass for this failed one
        this.disposeRun();
        this.run = undefined;
        this.setState("error");
        throw this.lastError;
      }
    } finally {
      this.busy = false;
    }
  }

  /** Checks a scenario and run settings without running anything (a cluster master validates before dealing). */
  async resolveRun(name: string, settings: Record<string, unknown> = {}): Promise<ResolvedRun> {
    if (typeof name !== "string") throw new UsageError("the scenario name must be a string", "e.g. do('dummy', 1, 10)");
    if (typeof settings !== "object" || settings === null || Array.isArray(settings)) throw new UsageError("settings must be an object", "e.g. {interarrival: 0}");
    const scenario = await loadRunScenario(name, mixOf(settings, this.deps.settings.mix), this.deps.settings.scenarios_dir);
    return { scenario, ...this.resolveSettings(scenario, settings) };
  }

  private resolveSettings(scenario: LoadedScenario, settings: Record<string, unknown>): { settings: NodeSettings; vars: Record<string, unknown> } {
    const { nodeOverrides, variables } = splitSettings(settings);
    const runSettings = loadNodeSettings({ env: this.deps.env, overrides: { ...nodeOverrides }, overridesLabel: "settings" });
    // open model: each arrival runs start() once, as k6 arrival-rate iterations do, unless repeat_num is given
    if (runSettings.arrival_rate.length > 0 && !("repeat_num" in nodeOverrides) && this.deps.env.AMOC_REPEAT_NUM === undefined && this.deps.env.AMOC_repeat_num === undefined) runSettings.repeat_num = 1;
    this.shapeOf(runSettings);
    const vars = resolveVariables(scenario.variables, { settings: variables, env: this.deps.env, file: this.deps.fileVariables, scenarioFile: scenario.file });
    return { settings: { ...runSettings, node_name: this.deps.settings.node_name }, vars };
  }

  private async runInit(scenario: LoadedScenario, vars: Record<string, unknown>, settings: NodeSettings): Promise<unknown> {
    const init = scenario.module.init;
    if (!init) return undefined;
    const t0 = nowMs();
    try {
      const state = await init({ scenario: scenario.name, nodeName: settings.node_name, log: this.deps.log.child({ scenario: scenario.name }), metrics: this.deps.metrics, vars, settings, sleep: sleepMs, throttle: this.throttles });
      this.deps.telemetry.emit("scenario.init", { scenario: scenario.name, durationMs: nowMs() - t0, ok: true });
      return state;
    } catch (e) {
      this.deps.telemetry.emit("scenario.init", { scenario: scenario.name, durationMs: nowMs() - t0, ok: false, message: errorMessage(e) });
      this.deps.log.error({ msg: "scenario_init_failed", scenario: scenario.name, err: errorMessage(e) });
      throw new ScenarioError("SCENARIO_INIT_FAILED", `init of scenario '${scenario.name}' failed: ${errorMessage(e)}`, "fix init() in the scenario (no user was started)", { cause: e });
    }
  }

  /** Starts this node's share of a range on the plan's instants (locally: all of it). */
  startRange(plan: RangePlan): number {
    const run = this.requireRunning("start users");
    const c = isShaped(plan) ? new ShapeCursor(plan) : new RangeCursor(plan);
    const n = c.remaining;
    if (n === 0) return 0;
    const lastId = plan.to - ((plan.to - plan.from - plan.offset) % plan.step);
    run.firstId = Math.min(run.firstId ?? Infinity, plan.from + plan.offset);
    run.lastId = Math.max(run.lastId ?? 0, lastId);
    run.pool.schedule(c);
    return n;
  }

  /** Starts several plans (a cluster worker's share of a do/add, or of a lost node's users). */
  startPlans(plans: RangePlan[]): number {
    let n = 0;
    for (const p of plans) n += this.startRange(p);
    return n;
  }

  /** The `n` highest IDs a removal may select, highest first (a cluster-wide remove merges these). */
  removableIds(n: number, force: boolean): number[] {
    return this.run?.pool.removable(n, force) ?? [];
  }

  /** Adds `n` users after the highest ID ever issued, after the users still waiting to start. */
  add(n: number): { from: number; to: number; users: number } {
    const run = this.requireRunning("add users");
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`add needs a positive integer, got ${JSON.stringify(n)}`, "e.g. add(10)");
    const from = (run.lastId ?? 0) + 1;
    const to = from + n - 1;
    const ia = run.settings.interarrival;
    const after = run.pool.lastPlannedAtMs();
    const t0 = Math.max(nowMs(), after === undefined ? 0 : after + ia);
    this.startRange({ from, to, step: 1, offset: 0, t0Ms: t0, baseId: from, interarrivalMs: ia });
    this.announce("add", { scenario: run.scenario.name, from, to, users: n });
    return { from, to, users: n };
  }

  /** Records that IDs up to `lastId` were issued (cluster: the master's range), so local `add` continues after them. */
  noteIssued(lastId: number): void {
    if (this.run) this.run.lastId = Math.max(this.run.lastId ?? 0, lastId);
  }

  /** Removes the `n` highest running IDs; `force` aborts them and drops them after 2 s. Returns how many were selected. */
  remove(n: number, opts: { force?: boolean } = {}): { requested: number; removed: number; force: boolean } {
    const run = this.requireRunning("remove users");
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`remove needs a positive integer, got ${JSON.stringify(n)}`, "e.g. remove(10, {force: true})");
    const force = opts?.force === true;
    const removed = run.pool.remove(n, force);
    this.announce("remove", { scenario: run.scenario.name, requested: n, removed, force });
    return { requested: n, removed, force };
  }

  /** Removes given IDs (cluster-wide remove: the master picks them). */
  removeIds(ids: number[], force: boolean): number {
    const run = this.requireRunning("remove users");
    return run.pool.removeIds(ids, force);
  }

  /** Changes updatable scenario variables live; returns what changed. */
  updateSettings(update: Record<string, unknown>): Record<string, unknown> {
    const run = this.requireRunning("update settings");
    if (typeof update !== "object" || update === null || Array.isArray(update)) throw new UsageError("settings must be an object", "e.g. update_settings({message_interval: 500})");
    for (const k of Object.keys(update)) {
      if (isSettingKey(k)) throw new AmocError("VARIABLE_READ_ONLY", `'${k}' is a node setting and cannot change during a run`, "stop the run and start a new one with the new value");
    }
    const changed = checkUpdate(run.scenario.variables, update, run.scenario.file);
    Object.assign(run.vars, changed);
    Object.assign(run.given, changed);
    this.announce("settings", { scenario: run.scenario.name, ...changed });
    return changed;
  }

  /** Force-removes every user, calls `terminate`, and ends the run (`finished`). */
  async stop(): Promise<StatusReport> {
    const run = this.run;
    if (!run || this.st !== "running") throw new StateError(`nothing to stop: the node is ${this.st}`, "start a run with do(...) first");
    this.setState("terminating");
    run.removals?.stop();
    this.announce("stop", { scenario: run.scenario.name, ...run.pool.counts() });
    await run.pool.stopAll();
    const leftOut = run.pool.crashLinesLeftOut();
    // only the first crash of each kind is logged at warn: say how many lines were left out, once
    if (leftOut > 0) this.deps.log.warn({ msg: "user_crashed_lines_left_out", left_out: leftOut, hint: "every crash is counted in the summary's errors; AMOC_LOG_LEVEL=debug logs each" });
    await this.runTerminate(run);
    this.throttles.clear();
    this.coordinator.clear();
    if (this.usersTimer) clearInterval(this.usersTimer);
    this.emitUsers();
    this.setState("finished");
    return this.status();
  }

  private async runTerminate(run: Run): Promise<void> {
    const fn = run.scenario.module.terminate;
    if (!fn) return;
    const t0 = nowMs();
    try {
      await fn(run.state);
      this.deps.telemetry.emit("scenario.terminate", { scenario: run.scenario.name, durationMs: nowMs() - t0, ok: true });
    } catch (e) {
      this.deps.telemetry.emit("scenario.terminate", { scenario: run.scenario.name, durationMs: nowMs() - t0, ok: false, message: errorMessage(e) });
      this.deps.log.error({ msg: "scenario_terminate_failed", scenario: run.scenario.name, err: errorMessage(e) });
    }
  }

  /** Resolves when the run has no user running and none pending (they all finished, crashed or were removed). */
  whenNoUsers(): Promise<void> {
    return this.run ? this.run.pool.whenIdle() : Promise.resolve();
  }

  /** The run's scenario, settings and last ID: what a node joining mid-run needs. */
  runInfo(): { scenario: string; settings: Record<string, unknown>; lastId: number | null } | undefined {
    if (!this.run || this.st !== "running") return undefined;
    return { scenario: this.run.scenario.name, settings: { ...this.run.given }, lastId: this.run.lastId };
  }

  runningIds(): number[] {
    return this.run?.pool.runningIds() ?? [];
  }

  status(): StatusReport {
    const run = this.run;
    const report: StatusReport = {
      node: this.deps.settings.node_name,
      state: this.st,
      scenario: run?.scenario.name ?? null,
      users: run ? run.pool.counts() : { ...EMPTY_COUNTS },
      first_id: run?.firstId ?? null,
      last_id: run?.lastId ?? null,
      settings: run ? runSettingsView(run) : {},
      errors: run ? run.pool.errorSummary() : [],
      uptime_ms: run ? Date.now() - run.startedAtMs : null,
      telemetry_failures: this.deps.telemetry.subscriberFailures,
    };
    if (this.st === "error" && this.lastError) report.error = this.lastError.toJSON();
    return report;
  }

  /** Stops users if any and releases timers (node shutdown). */
  async shutdown(): Promise<void> {
    if (this.st === "running") await this.stop();
    this.disposeRun();
  }

  private requireRunning(what: string): Run {
    if (this.st !== "running" || !this.run) {
      const hint = this.st === "idle" || this.st === "finished" ? "start a run first: amoc_local.do('dummy', 1, 10)" : this.st === "error" ? "fix the error shown by status(), then do(...) again" : "wait until the run has stopped";
      throw new StateError(`cannot ${what}: the node is ${this.st}`, hint);
    }
    return this.run;
  }

  private announce(kind: "do" | "add" | "remove" | "stop" | "settings", data: Record<string, unknown>): void {
    if (this.deps.announce !== false) this.deps.telemetry.emit("run.event", { kind, data });
  }

  private setState(s: ControllerState): void {
    this.st = s;
    this.deps.telemetry.emit("controller.state", { state: s, scenario: this.run?.scenario.name ?? null });
    this.deps.log.info({ msg: "controller_state", state: s, scenario: this.run?.scenario.name ?? null });
  }

  private emitUsers(): void {
    if (!this.run) return;
    const c = this.run.pool.counts();
    this.deps.telemetry.emit("controller.users", { running: c.running, started: c.started, finished: c.finished, crashed: c.crashed, removed: c.removed });
  }

  /** The run's load shape, or undefined; a shape that does not compile is a usage error. */
  shapeOf(s: NodeSettings): LoadShape | undefined {
    try {
      return compileShape(s);
    } catch (e) {
      throw new UsageError(`bad load shape: ${errorMessage(e)}`, "give stages (closed model) or arrival_rate (open model), e.g. stages: [{duration: '60s', target: 1000}]");
    }
  }

  private disposeRun(): void {
    this.run?.removals?.stop();
    if (this.usersTimer) clearInterval(this.usersTimer);
    this.usersTimer = undefined;
    this.run?.pool.dispose();
  }
}

/** Splits run settings into node-setting overrides and scenario variables; node-only keys are refused. */
export function splitSettings(settings: Record<string, unknown>): { nodeOverrides: Record<string, unknown>; variables: Record<string, unknown> } {
  const nodeOverrides: Record<string, unknown> = {};
  const variables: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings)) {
    if (isRunKey(k)) nodeOverrides[k] = v;
    else if (isSettingKey(k)) throw new UsageError(`'${k}' is a node setting and cannot be set per run`, `set it for the node instead: AMOC_${k.toUpperCase()}=...`);
    else variables[k] = v;
  }
  return { nodeOverrides, variables };
}

function runSettingsView(run: Run): Record<string, unknown> {
  const s = run.settings;
  return {
    interarrival: s.interarrival,
    repeat_num: s.repeat_num === Infinity ? "infinity" : s.repeat_num,
    repeat_interval: s.repeat_interval,
    ...run.vars,
  };
}
