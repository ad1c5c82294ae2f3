/**
 * The Node API of one mode (local or dist): the run engine for nodes and users, the scenario catalog, the run
 * service that owns every run, and the run history. Every front end calls this, never the parts.
 */
import { isSettingKey } from "../config/schema.js";
import { checkUpdate } from "../config/variables.js";
import type { StatusReport } from "../controller/types.js";
import { AmocError } from "../errors.js";
import type { LastInterval } from "../results/recorder.js";
import type { RunResults } from "../results/run-results.js";
import type { RunRecord } from "../results/store-types.js";
import { loadScenario, type LoadedScenario } from "../scenario/loader.js";
import { systemClock } from "../clock.js";
import type { CapacityRequest } from "./capacity/request.js";
import type { CapacityResult, CapacityStep } from "./capacity/search.js";
import { CapacityService, type CapacityProgress, type CapacityServiceDeps } from "./capacity/service.js";
import type { History } from "./history.js";
import type {
  ApiStatus,
  CommandOptions,
  CommandResult,
  NodeApi,
  NodeInfo,
  NodeSelector,
  RunQuery,
  StartRequest,
  StartResult,
  StopOptions,
  StopResult,
  ThrottleRequest,
  WatchEvent,
} from "./node-api.js";
import type { RunEngine } from "./run/engine.js";
import type { RunService } from "./run/run-service.js";
import type { ScenarioCatalog } from "./scenarios/catalog.js";
import type {
  ScenarioDetails,
  ScenarioSource,
  ScenarioSummary,
  UploadResult,
  VariableProblem,
} from "./scenarios/types.js";

/** The parts of one mode's API. */
export interface NodeServiceParts {
  engine: RunEngine;
  catalog: ScenarioCatalog;
  runs: RunService;
  history: History;
  /** The capacity search's clock, store and health sampler (default: the system clock, the history's store). */
  capacity?: Partial<Omit<CapacityServiceDeps, "api">>;
}

/** See the file comment. */
export class NodeService implements NodeApi {
  private readonly capacity: CapacityService;

  constructor(private readonly p: NodeServiceParts) {
    this.capacity = new CapacityService({
      clock: systemClock,
      storePath: p.history.storePath,
      intervalMs: 1000,
      ...p.capacity,
      api: this,
    });
  }

  get mode(): NodeApi["mode"] {
    return this.p.engine.mode;
  }

  get nodeName(): string {
    return this.p.engine.nodeName;
  }

  /** The engine (dist: joining the cluster, its master). */
  get engine(): RunEngine {
    return this.p.engine;
  }

  /** Gets ready now instead of on first use (dist: joins the cluster as master; a failure is the caller's). */
  connect(): Promise<void> {
    return this.p.engine.connect();
  }

  nodes(): Promise<NodeInfo[]> {
    return this.p.engine.nodes();
  }

  status(): Promise<ApiStatus> {
    return this.p.runs.status();
  }

  /** One node's status; this node's own (local) with the run's last interval. */
  async nodeStatus(node: string): Promise<StatusReport> {
    const s = await this.p.engine.nodeStatus(node);
    return this.mode === "local" ? ({ ...s, last_interval: this.p.runs.lastInterval() } as StatusReport) : s;
  }

  scenarios(): Promise<ScenarioSummary[]> {
    return this.p.catalog.list();
  }

  scenarioInfo(name: string): Promise<ScenarioDetails> {
    return this.p.catalog.info(name);
  }

  scenarioDefaults(name: string): Promise<Record<string, unknown>> {
    return this.p.catalog.defaults(name);
  }

  scenarioSource(name: string): Promise<ScenarioSource> {
    return this.p.catalog.source(name);
  }

  checkScenario(name: string, settings: Record<string, unknown>): Promise<VariableProblem[]> {
    return this.p.catalog.check(name, settings);
  }

  upload(name: string, source: string): Promise<UploadResult> {
    return this.p.catalog.upload(name, source);
  }

  start(req: StartRequest): Promise<StartResult> {
    return this.p.runs.start(req);
  }

  add(n: number, opts?: CommandOptions): Promise<CommandResult> {
    return this.p.engine.add(n, opts);
  }

  remove(n: number, opts?: CommandOptions): Promise<CommandResult> {
    return this.p.engine.remove(n, opts);
  }

  /**
   * In a cluster, the settings are first checked against the run's scenario here: an undeclared, read-only or
   * invalid variable is the client's mistake (400/409), not a failure of every worker (502).
   */
  async updateSettings(settings: Record<string, unknown>, opts?: CommandOptions): Promise<CommandResult> {
    if (this.mode === "dist") await this.checkUpdate(settings);
    return this.p.engine.updateSettings(settings, opts);
  }

  private async checkUpdate(settings: Record<string, unknown>): Promise<void> {
    const run = (await this.p.engine.status()).run;
    if (!run || run.state !== "running") return; // the engine says why
    const key = Object.keys(settings ?? {}).find((k) => isSettingKey(k));
    if (key)
      throw new AmocError(
        "VARIABLE_READ_ONLY",
        `'${key}' is a node setting and cannot change during a run`,
        "stop the run and start a new one with the new value",
      );
    let scenario: LoadedScenario;
    try {
      const file = await this.p.catalog.fileOf(run.scenario, run.version);
      scenario = await loadScenario(file, this.p.catalog.scenariosDir);
    } catch {
      return; // not loadable here: the workers check
    }
    checkUpdate(scenario.variables, settings, scenario.file);
  }

  stop(opts?: StopOptions): Promise<StopResult> {
    return this.p.runs.stop(opts);
  }

  throttle(req: ThrottleRequest, opts?: NodeSelector): Promise<CommandResult> {
    return this.p.engine.throttle(req, opts);
  }

  lastInterval(): LastInterval | null {
    return this.p.runs.lastInterval();
  }

  whenNoUsers(): Promise<void> {
    return this.p.runs.whenNoUsers();
  }

  waitForWorkers(n: number, timeoutMs: number, onWait?: (live: string[]) => void): Promise<string[]> {
    return this.p.engine.waitForWorkers(n, timeoutMs, onWait);
  }

  watch(listener: (e: WatchEvent) => void): () => void {
    return this.p.runs.watch(listener);
  }

  startCapacity(req: CapacityRequest, onStep?: (s: CapacityStep) => void): Promise<CapacityProgress> {
    return this.capacity.start(req, onStep);
  }

  capacityProgress(): CapacityProgress | null {
    return this.capacity.progress();
  }

  stopCapacity(): Promise<CapacityProgress | null> {
    return this.capacity.stop();
  }

  capacityResult(): Promise<CapacityResult | null> {
    return this.capacity.result();
  }

  async runs(q?: RunQuery): Promise<RunRecord[]> {
    return this.p.history.runs(q);
  }

  async runResults(ref: string): Promise<RunResults> {
    return this.p.history.runResults(ref);
  }

  async compareRuns(a: string, b: string) {
    return this.p.history.compareRuns(a, b);
  }

  async report(ref: string): Promise<string> {
    return this.p.history.report(ref);
  }

  /** The node closes: a run still recorded ends without a stop. */
  close(): void {
    this.p.runs.close();
  }
}
