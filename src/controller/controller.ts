/** The per-node state machine (idle → running → terminating → finished, plus error); the only writer of run state. */
import type { NodeSettings } from "../config/schema.js";
import { AmocError, ScenarioError, StateError, errorMessage } from "../errors.js";
import { loadRunScenario, mixOf } from "../shapes/mix.js";
import type { RangePlan } from "../users/schedule.js";
import { ThrottleRegistry, applyThrottleOp, type ThrottleOp } from "../throttle/throttle.js";
import { localCoordinator, type CoordinatorClient } from "../coordinator/coordinator.js";
import { shapeView, type LoadShape } from "../shapes/stages.js";
import { Run, noRunStatus } from "./run.js";
import {
  notRunning,
  checkCount,
  checkNoNodeSettings,
  checkScenarioName,
  checkSettingsObject,
  checkUserRange,
} from "./arguments.js";
import { startDo, warnCrashLinesLeftOut } from "./do-plan.js";
import { compileRunShape, resolveRunSettings, type ResolvedRun } from "./run-settings.js";
import { runInit, runTerminate } from "./scenario-hooks.js";
import type { ControllerDeps, ControllerState, StatusReport } from "./types.js";

/** Runs one scenario at a time on this node. */
export class Controller {
  private st: ControllerState = "idle";
  private run: Run | undefined;
  private lastError: AmocError | undefined;
  private busy = false;
  /** This node's throttles; its share of each cluster-wide rate is 1 alone, the master's split in a cluster. */
  readonly throttles = new ThrottleRegistry(1);

  /** One amoc_throttle operation on this node's throttles (the console's, REST's or a script's). */
  throttle(op: ThrottleOp): unknown {
    return applyThrottleOp(this.throttles, op);
  }
  /** This node's coordinator: hub and waits here alone; a cluster worker's goes through the master. */
  private coord: CoordinatorClient | undefined;

  constructor(private readonly deps: ControllerDeps) {}

  /** Where this node's run is. */
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

  /** This node's name. */
  get nodeName(): string {
    return this.deps.settings.node_name;
  }

  /** Starts scenario `name` with users `from..to`, one every `interarrival` ms. */
  async do(
    name: string,
    from: number,
    to: number,
    settings: Record<string, unknown> = {},
  ): Promise<{ scenario: string; from: number; to: number; users: number }> {
    checkUserRange(from, to);
    const run = await this.prepare(name, settings);
    const shape = this.shapeOf(run.settings);
    // a load shape (stages / arrival_rate) says how many users start, and when: `to` follows from it
    if (shape) to = from + Math.max(1, shape.users) - 1;
    startDo(run, from, to, shape, {
      remove: (n) => this.remove(n),
      onRemovalError: (e) => this.deps.log.warn({ msg: "stage_removal_failed", err: errorMessage(e) }),
    });
    this.announce("do", { scenario: run.scenario.name, from, to, users: to - from + 1, ...shapeView(run.settings) });
    return { scenario: run.scenario.name, from, to, users: to - from + 1 };
  }

  /**
   * Loads the scenario, resolves settings and runs `init`, leaving the node `running` with no users.
   * `do` and cluster workers both start here. Bad settings change nothing; a failing `init` leaves the node in `error`.
   */
  async prepare(name: string, settings: Record<string, unknown> = {}): Promise<Run> {
    if (this.busy) throw new StateError("another command is still being processed", "wait for it to finish and retry");
    if (this.st === "running" || this.st === "terminating") {
      throw new StateError(
        `a run of '${this.run?.scenario.name}' is ${this.st}`,
        "stop it first (amoc_local.stop(), or stop() in the console), then start a new one",
      );
    }
    checkScenarioName(name);
    checkSettingsObject(settings, "e.g. {interarrival: 0, dummy_sleep_ms: 100}");
    this.busy = true;
    try {
      // an unknown scenario is a typo: report it and keep the current state
      const scenario = await loadRunScenario(
        name,
        mixOf(settings, this.deps.settings.mix),
        this.deps.settings.scenarios_dir,
      );
      // bad settings or variables refuse the start: the node keeps its state (and its last run's counts)
      const { settings: nodeSettings, vars } = this.resolveSettings(scenario, settings);
      try {
        // a new run starts with no throttles: init and the throttles setting start them
        this.throttles.clear();
        this.coordinator.clear();
        const state = await runInit({ ...this.deps, throttles: this.throttles }, scenario, vars, nodeSettings);
        for (const [name, cfg] of Object.entries(nodeSettings.throttles)) this.throttles.start(name, cfg);
        this.run?.dispose();
        const { telemetry, metrics, log, forceGraceMs } = this.deps;
        this.run = new Run(scenario, nodeSettings, { ...settings }, vars, state, {
          telemetry,
          metrics,
          log,
          forceGraceMs,
          throttles: this.throttles,
          coordinator: this.coordinator,
        });
        this.lastError = undefined;
        this.setState("running");
        return this.run;
      } catch (e) {
        this.lastError =
          e instanceof AmocError ? e : new ScenarioError("SCENARIO_INIT_FAILED", errorMessage(e), "see the log");
        // the previous run is over: its counts must not pass for this failed one
        this.run?.dispose();
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
    checkScenarioName(name);
    checkSettingsObject(settings, "e.g. {interarrival: 0}");
    const scenario = await loadRunScenario(
      name,
      mixOf(settings, this.deps.settings.mix),
      this.deps.settings.scenarios_dir,
    );
    return { scenario, ...this.resolveSettings(scenario, settings) };
  }

  private resolveSettings(scenario: ResolvedRun["scenario"], settings: Record<string, unknown>) {
    const { env, fileVariables, settings: s } = this.deps;
    return resolveRunSettings({ env, fileVariables, nodeName: s.node_name }, scenario, settings);
  }

  /** Starts this node's share of a range on the plan's instants (locally: all of it). */
  startRange(plan: RangePlan): number {
    return this.requireRunning("start users").startRange(plan);
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
    checkCount(n, "add", "e.g. add(10)");
    const plan = run.addPlan(n);
    const { from, to } = plan;
    run.startRange(plan);
    this.announce("add", { scenario: run.scenario.name, from, to, users: n });
    return { from, to, users: n };
  }

  /** Records that IDs up to `lastId` were issued (cluster: the master's range), so local `add` continues after them. */
  noteIssued(lastId: number): void {
    this.run?.noteIssued(lastId);
  }

  /** Removes the `n` highest running IDs; `force` aborts them and drops them after 2 s. Returns how many were selected. */
  remove(n: number, opts: { force?: boolean } = {}): { requested: number; removed: number; force: boolean } {
    const run = this.requireRunning("remove users");
    checkCount(n, "remove", "e.g. remove(10, {force: true})");
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
    checkSettingsObject(update, "e.g. update_settings({message_interval: 500})");
    checkNoNodeSettings(update);
    const changed = run.updateVariables(update);
    this.announce("settings", { scenario: run.scenario.name, ...changed });
    return changed;
  }

  /** Force-removes every user, calls `terminate`, and ends the run (`finished`). */
  async stop(): Promise<StatusReport> {
    const run = this.run;
    if (!run || this.st !== "running")
      throw new StateError(`nothing to stop: the node is ${this.st}`, "start a run with do(...) first");
    this.setState("terminating");
    run.removals?.stop();
    this.announce("stop", { scenario: run.scenario.name, ...run.pool.counts() });
    await run.pool.stopAll();
    warnCrashLinesLeftOut(run, this.deps.log);
    await runTerminate(this.deps, run.scenario, run.state);
    this.throttles.clear();
    this.coordinator.clear();
    run.finalCounts();
    this.setState("finished");
    return this.status();
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

  /** The IDs of this node's running users. */
  runningIds(): number[] {
    return this.run?.pool.runningIds() ?? [];
  }

  /** This node's status: its state and its run's (the last run's, once finished). */
  status(): StatusReport {
    const run = this.run;
    const report: StatusReport = {
      node: this.deps.settings.node_name,
      state: this.st,
      ...(run ? run.status() : noRunStatus()),
      telemetry_failures: this.deps.telemetry.subscriberFailures,
    };
    if (this.st === "error" && this.lastError) report.error = this.lastError.toJSON();
    return report;
  }

  /** Stops users if any and releases timers (node shutdown). */
  async shutdown(): Promise<void> {
    if (this.st === "running") await this.stop();
    this.run?.dispose();
  }

  private requireRunning(what: string): Run {
    if (this.st !== "running" || !this.run) throw notRunning(what, this.st);
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

  /** The run's load shape, or undefined; a shape that does not compile is a usage error. */
  shapeOf(s: NodeSettings): LoadShape | undefined {
    return compileRunShape(s);
  }
}
