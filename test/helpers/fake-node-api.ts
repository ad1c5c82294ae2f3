/**
 * A Node API for the REST and dashboard tests (fastify.inject, no controller): a scripted run state and the calls
 * it received, the node's real scenario catalog (built-ins from scenarios/, uploads checked in a child process and
 * stored in a directory), a run store file for the history (tests fill it with syntheticRun), and a watch stream
 * the test feeds with `emit`.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { ControllerState, StatusReport } from "../../src/controller/types.js";
import { NodeNotFoundError, StateError } from "../../src/errors.js";
import type {
  ApiStatus,
  CommandOptions,
  CommandResult,
  NodeApi,
  NodeInfo,
  NodeSelector,
  RunEnd,
  RunQuery,
  StartRequest,
  StartResult,
  StopResult,
  ThrottleRequest,
  WatchEvent,
} from "../../src/node/node-api.js";
import { ScenarioCatalog } from "../../src/node/scenarios/catalog.js";
import { systemClock, type Clock } from "../../src/clock.js";
import { CapacityService } from "../../src/node/capacity/service.js";
import { compareTables } from "../../src/results/compare.js";
import { renderReport } from "../../src/results/report.js";
import { readRunResults } from "../../src/results/run-results.js";
import { RunStore } from "../../src/results/store.js";
import { RunNotFoundError, type RunRecord } from "../../src/results/store-types.js";
import { DirScenarioStore } from "../../src/scenario/upload-dir-store.js";

/** How the fake is built: `dir` holds its uploads, upload-check scratch files and (by default) its run store. */
export interface FakeNodeApiOptions {
  dir: string;
  nodeName?: string;
  storePath?: string;
  uploads?: boolean;
  /** The capacity search's clock (tests on fake time) and interval. */
  clock?: Clock;
  intervalMs?: number;
}

const report = (node: string, state: ControllerState): StatusReport => ({
  node,
  state,
  scenario: null,
  users: { running: 0, started: 0, finished: 0, crashed: 0, removed: 0, pending: 0, removing: 0 },
  first_id: null,
  last_id: null,
  settings: {},
  errors: [],
  uptime_ms: null,
});

/** See the file comment. */
export class FakeNodeApi implements NodeApi {
  readonly mode = "local" as const;
  readonly nodeName: string;
  readonly storePath: string;
  readonly uploads: DirScenarioStore;
  state: ControllerState = "idle";
  /** Every command, with its arguments, in order. */
  readonly calls: Array<[string, unknown[]]> = [];
  /** What the next stop reports as the run's end (a passed run by default). */
  nextEnd: Partial<RunEnd> = {};
  private readonly catalog: ScenarioCatalog;
  private readonly watchers = new Set<(e: WatchEvent) => void>();
  private runNo = 0;
  /** The real capacity search service, driving this fake. */
  readonly capacity: CapacityService;

  constructor(o: FakeNodeApiOptions) {
    this.nodeName = o.nodeName ?? "n1";
    this.storePath = o.storePath ?? join(o.dir, "runs.sqlite");
    this.uploads = new DirScenarioStore(join(o.dir, "uploads"));
    this.catalog = new ScenarioCatalog({
      scenariosDir: resolve("scenarios"),
      workDir: join(o.dir, "check"),
      store: async () => this.uploads,
      uploads: o.uploads,
    });
    this.capacity = new CapacityService({
      api: this,
      clock: o.clock ?? systemClock,
      storePath: this.storePath,
      intervalMs: o.intervalMs ?? 1000,
    });
  }

  /** Sends `e` to every watcher. */
  emit(e: WatchEvent): void {
    for (const w of this.watchers) w(e);
  }
  get watching(): number {
    return this.watchers.size;
  }

  async nodes(): Promise<NodeInfo[]> {
    return [{ name: this.nodeName, role: "local", labels: {}, state: this.state, running: 0 }];
  }
  async status(): Promise<ApiStatus> {
    const r = report(this.nodeName, this.state);
    return { mode: "local", run: null, users: r.users, nodes: { [this.nodeName]: { ok: true, result: r } } };
  }
  async nodeStatus(node: string): Promise<StatusReport> {
    if (node !== this.nodeName) throw new NodeNotFoundError(`no node '${node}'`, "GET /nodes lists them");
    return report(node, this.state);
  }

  scenarios = () => this.catalog.list();
  scenarioInfo = (name: string) => this.catalog.info(name);
  scenarioDefaults = (name: string) => this.catalog.defaults(name);
  scenarioSource = (name: string) => this.catalog.source(name);
  checkScenario = (name: string, settings: Record<string, unknown>) => this.catalog.check(name, settings);
  upload = (name: string, source: string) => this.catalog.upload(name, source);

  private cmd(name: string, args: unknown[], needs?: string): CommandResult {
    this.calls.push([name, args]);
    if (needs && this.state !== needs)
      throw new StateError(`${name} needs a ${needs} node, this one is ${this.state}`, "wait");
    return { users: 1, nodes: { [this.nodeName]: { ok: true, result: {} } } };
  }

  async start(req: StartRequest): Promise<StartResult> {
    const s = await this.catalog.resolve(req.scenario);
    const r = this.cmd("start", [req], "idle");
    this.state = "running";
    return { ...r, run_id: `run-${++this.runNo}`, scenario: s.name, ...(s.version ? { version: s.version } : {}) };
  }
  add = async (n: number, o?: CommandOptions) => this.cmd("add", [n, o], "running");
  remove = async (n: number, o?: CommandOptions) => this.cmd("remove", [n, o], "running");
  updateSettings = async (s: Record<string, unknown>, o?: CommandOptions) =>
    this.cmd("updateSettings", [s, o], "running");
  throttle = async (req: ThrottleRequest, o?: NodeSelector) => this.cmd("throttle", [req, o]);

  async stop(o?: CommandOptions): Promise<StopResult> {
    const r = this.cmd("stop", [o], "running");
    this.state = "finished";
    const run: RunEnd = {
      run_id: `run-${this.runNo}`,
      verdict: "passed",
      exit_code: 0,
      thresholds: [],
      summary: {
        scenario: "dummy",
        users: { running: 0, started: 0, finished: 0, crashed: 0, removed: 0 },
        duration_ms: 0,
        settings: {},
        errors: [],
        metrics: {},
      },
      ...this.nextEnd,
    };
    this.emit({ type: "end", run });
    return { ...r, run };
  }

  startCapacity: NodeApi["startCapacity"] = (req, onStep) => this.capacity.start(req, onStep);
  capacityProgress = () => this.capacity.progress();
  stopCapacity = () => this.capacity.stop();
  capacityResult = () => this.capacity.result();

  lastInterval = () => null;
  whenNoUsers = async () => {};
  waitForWorkers = async () => [this.nodeName];
  watch(listener: (e: WatchEvent) => void): () => void {
    this.watchers.add(listener);
    return () => void this.watchers.delete(listener);
  }

  private read<T>(fn: (s: RunStore) => T): T {
    if (!existsSync(this.storePath)) throw new RunNotFoundError("no runs recorded yet");
    const s = RunStore.open(this.storePath, { readonly: true });
    try {
      return fn(s);
    } finally {
      s.close();
    }
  }
  async runs(q: RunQuery = {}): Promise<RunRecord[]> {
    if (!existsSync(this.storePath)) return [];
    const all = this.read((s) => s.listRuns(q.scenario ? 10_000 : (q.limit ?? 100)));
    return q.scenario ? all.filter((r) => r.scenario === q.scenario).slice(0, q.limit ?? 100) : all;
  }
  runResults = async (ref: string) => this.read((s) => readRunResults(s, ref));
  async compareRuns(a: string, b: string) {
    return this.read((s) => {
      const [ra, rb] = [readRunResults(s, a), readRunResults(s, b)];
      return { a: ra.run.id, b: rb.run.id, metrics: compareTables(ra.table, rb.table) };
    });
  }
  report = async (ref: string) => this.read((s) => renderReport(readRunResults(s, ref)));
}
