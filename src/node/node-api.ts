/**
 * The one Node API every front end calls (console, attached console, REST, dashboard, `bin/amoc run`): NodeService
 * (node-service.ts) over a local engine (the Controller) or a distributed one (the Master), both around the node's
 * one run service (run/run-service.ts). Both return the same shapes: results are per node (one node in local mode),
 * totals are summed over the nodes. Errors are AmocErrors (their `code` maps to an exit code and an HTTP status in
 * `ERROR_STATUS`); nothing here prints.
 */
import type { SutSample, SutSummary } from "../results/sut-series.js";
import type { StatusReport } from "../controller/types.js";
import type { EncodedInterval, RunEventRecord } from "../results/interval.js";
import type { LastInterval } from "../results/recorder.js";
import type { RunResults } from "../results/run-results.js";
import type { RunRecord, Verdict } from "../results/store-types.js";
import type { CounterSummary, TimingSummary } from "../results/summary.js";
import type { ThresholdResult } from "../results/thresholds.js";
import type { UserCounts } from "../users/user-pool.js";
import type { CapacityRequest } from "./capacity/request.js";
import type { CapacityResult, CapacityStep } from "./capacity/search.js";
import type { CapacityProgress } from "./capacity/service.js";
import type { RunComparison } from "./history.js";
import type { ErrorSummary } from "../users/crash-tally.js";
import type {
  ScenarioDetails,
  ScenarioSource,
  ScenarioSummary,
  UploadResult,
  VariableProblem,
} from "./scenarios/types.js";

/** Which implementation answers: this node's controller, or the cluster through this node as master. */
export type NodeApiMode = "local" | "dist";

/** One node's answer: its result, or why it failed (a node that does not answer is named, never dropped). */
export type PerNode<T> = { ok: true; result: T } | { ok: false; error: string };

/** Which nodes a command addresses: by name, or by labels (all must match). Default: every node (local: this one). */
export interface NodeSelector {
  nodes?: string[];
  labels?: Record<string, string>;
}

/** A node as `GET /nodes` and `nodes()` list it. */
export interface NodeInfo {
  name: string;
  role: "local" | "master" | "worker";
  labels: Record<string, string>;
  /** Controller state (idle, running, ...), or "down". */
  state: string;
  running: number;
  /** The run the node takes part in (dist mode), or null. */
  run_id?: string | null;
}

/** The run in progress (or the last one), cluster-wide. */
export interface RunInfo {
  run_id: string | null;
  state: string;
  scenario: string;
  /** The scenario version the run uses (content hash of its source), when known. */
  version?: string;
  settings: Record<string, unknown>;
  master?: string;
}

/** `status()`: the run, totals over the nodes, and every node's own status. */
export interface ApiStatus {
  mode: NodeApiMode;
  run: RunInfo | null;
  users: Omit<UserCounts, never>;
  nodes: Record<string, PerNode<StatusReport>>;
  /** The run's last merged interval (null before the first, or with no run being recorded). */
  last_interval?: LastInterval | null;
}

/** A command's result: what it did in total and per node. */
export interface CommandResult {
  /** Users selected/started in total (add, remove, start), when the command has such a count. */
  users?: number;
  nodes: Record<string, PerNode<Record<string, unknown>>>;
  [extra: string]: unknown;
}

/**
 * Starting a run: users `from..from+users-1` (or `from..to`), settings are run keys and scenario variables. The run
 * service resolves `scenario` (a built-in name, or the newest uploaded version of that name), so a request never
 * names a file or a version.
 */
export interface StartRequest extends NodeSelector {
  scenario: string;
  users?: number;
  from?: number;
  to?: number;
  settings?: Record<string, unknown>;
  comment?: string;
  /** Pass/fail targets ('xmpp.message_ttd.p99<50'), besides the config file's; judged on the run's merged results. */
  thresholds?: string[];
  /** Stop the run at the first interval that breaches a threshold (the stop reply's verdict says so). */
  abortOnFail?: boolean;
  /** Files written when the run ends: its HTML report and JUnit (`bin/amoc run --report/--junit`). */
  reportPath?: string;
  junitPath?: string;
  /** Crashed users do not fail the run (`bin/amoc run --allow-crashes`): its exit code stays 0. */
  allowCrashes?: boolean;
}

/** What a start did: per node, plus the run it opened and the scenario version every node runs. */
export interface StartResult extends CommandResult {
  run_id: string;
  scenario: string;
  /** Content hash of the scenario source the run uses. */
  version?: string;
}

/** The one summary of a run: what `amoc run` prints, `--json`, the stop reply and the run store all carry. */
export interface RunSummary {
  run_id?: string;
  scenario: string;
  users: Omit<UserCounts, "pending" | "removing">;
  duration_ms: number;
  settings: Record<string, unknown>;
  errors: ErrorSummary[];
  /** The run's merged totals (results/ pipeline): counters by count, timings by exact count/min/max and percentiles. */
  metrics: Record<string, CounterSummary | TimingSummary>;
  /** Every node that took part, a lost one marked lost with what it had done and where its users went. */
  nodes?: Record<string, NodeOutcome>;
  /** What went wrong outside the users (a node that failed, nothing started, a cluster problem), said in words. */
  problems?: RunProblem[];
  /** The server under test, when the run sampled it (AMOC_SUT_*): its series and sessions against our users. */
  sut?: SutSummary;
}

/** One node's part in a run. */
export interface NodeOutcome {
  started: number;
  finished: number;
  crashed: number;
  running: number;
  /** The node was lost during the run (down or failed): its counts are the last it reported. */
  lost?: boolean;
  /** Lost: the nodes its unfinished users were re-dealt to, with how many each took. */
  redealt_to?: Record<string, number>;
}

/** One problem of a run: where, what, and what it affects. */
export interface RunProblem {
  node?: string;
  kind: string;
  message: string;
  affects?: string;
  count?: number;
}

/** How a run ended, as the stop reply, `amoc run` and the run store give it. */
export interface RunEnd {
  run_id: string;
  verdict: Verdict;
  /** The run's exit code: 0 passed, 1 users crashed or a node failed, 3 a threshold breached, 128+ a signal. */
  exit_code: number;
  thresholds: ThresholdResult[];
  summary: RunSummary;
  report_path?: string;
  junit_path?: string;
  /** What the run store failed to keep (the run went on without it), in words. */
  store_loss?: string;
}

/** What a stop did; `run` when it ended the run (a stop of some nodes only leaves the run going). */
export interface StopResult extends CommandResult {
  run?: RunEnd;
}

/** What `watch` delivers: the run's merged-by-node intervals as they arrive, and its events. */
export type WatchEvent =
  | { type: "interval"; interval: EncodedInterval }
  | { type: "event"; event: RunEventRecord }
  /** A sampling of the server under test (src/sut/), as the recording stores it. */
  | { type: "sut"; sample: SutSample }
  | { type: "end"; run: RunEnd };

/** Which runs `runs()` lists: the newest `limit` (default 100), of one scenario when `scenario` is given. */
export interface RunQuery {
  limit?: number;
  scenario?: string;
}

/** Options of add/remove/stop/update_settings. */
export interface CommandOptions extends NodeSelector {
  force?: boolean;
  comment?: string;
}

/** Options of a stop: why the front end stops the run, so its exit code and summary say so. */
export interface StopOptions extends CommandOptions {
  /** The run was stopped by this signal (exit code 130 for SIGINT, 143 for SIGTERM). */
  signal?: string;
  /** What the front end saw go wrong (no user started, every node gone): the run fails with exit code 1. */
  problems?: RunProblem[];
}

/**
 * A throttle operation (amoc_throttle from the console, REST or a script): `op` is start, change_rate,
 * change_rate_gradually, pause, resume, stop or list; rates are cluster-wide ({rate, interval} or {interarrival}).
 */
export interface ThrottleRequest {
  op: "start" | "change_rate" | "change_rate_gradually" | "pause" | "resume" | "stop" | "list";
  name?: string;
  config?: { rate?: number; interval?: number; interarrival?: number };
  gradual?: { from: number; to: number; overMs: number; steps?: number; interval?: number };
}

/**
 * The operations every front end uses (console, attach, REST, dashboard, `bin/amoc run`): one implementation per
 * mode, both over the node's one run service (docs/architecture.md section 1). A refused request changes no state.
 */
export interface NodeApi {
  readonly mode: NodeApiMode;
  /** This node's name. */
  readonly nodeName: string;
  nodes(): Promise<NodeInfo[]>;
  status(): Promise<ApiStatus>;
  /** One node's status; NODE_NOT_FOUND (404) for an unknown node. */
  nodeStatus(node: string): Promise<StatusReport>;

  // scenarios: built-in (scenarios_dir) and uploaded (by content hash)
  scenarios(): Promise<ScenarioSummary[]>;
  scenarioInfo(name: string): Promise<ScenarioDetails>;
  scenarioDefaults(name: string): Promise<Record<string, unknown>>;
  scenarioSource(name: string): Promise<ScenarioSource>;
  /** Checks variables against a built-in or uploaded scenario's declarations (never a path). */
  checkScenario(name: string, settings: Record<string, unknown>): Promise<VariableProblem[]>;
  /** Checks (in a child process, with a time limit) and stores an upload; API_UPLOADS_OFF when refused. */
  upload(name: string, source: string): Promise<UploadResult>;

  // the run: validated, resolved, recorded, started; stopped with its verdict
  start(req: StartRequest): Promise<StartResult>;
  add(n: number, opts?: CommandOptions): Promise<CommandResult>;
  remove(n: number, opts?: CommandOptions): Promise<CommandResult>;
  updateSettings(settings: Record<string, unknown>, opts?: CommandOptions): Promise<CommandResult>;
  stop(opts?: StopOptions): Promise<StopResult>;
  /** Acts on a named throttle on every node of the run (or the selected ones); per-node results. */
  throttle(req: ThrottleRequest, opts?: NodeSelector): Promise<CommandResult>;
  /** The run's last merged interval (null before the first, or with no run). */
  lastInterval(): LastInterval | null;
  /** Resolves when the current run has no user left to run (local: exact; dist: as status shows it). */
  whenNoUsers(): Promise<void>;
  /** Waits for `n` live workers (dist; local: this node at once); CLUSTER_NO_WORKERS after `timeoutMs`. */
  waitForWorkers(n: number, timeoutMs: number, onWait?: (live: string[]) => void): Promise<string[]>;
  /** Intervals and events of the runs of this node as they happen; returns the unsubscribe. */
  watch(listener: (e: WatchEvent) => void): () => void;

  // the capacity search (node/capacity/, docs/capacity.md): one at a time, driving this API; stored as a run of
  // kind `capacity`. startCapacity resolves once the first step started (STATE_INVALID while another search runs).
  startCapacity(req: CapacityRequest, onStep?: (s: CapacityStep) => void): Promise<CapacityProgress>;
  capacityProgress(): CapacityProgress | null;
  stopCapacity(): Promise<CapacityProgress | null>;
  /** The current (or last) search's result when it ends (null: none ran). */
  capacityResult(): Promise<CapacityResult | null>;

  // history: the node's run store
  runs(q?: RunQuery): Promise<RunRecord[]>;
  /** A run by id, unique prefix, 'last' or 'last~N'; RUN_NOT_FOUND (404) otherwise. */
  runResults(ref: string): Promise<RunResults>;
  compareRuns(a: string, b: string): Promise<RunComparison>;
  /** The run's HTML report. */
  report(ref: string): Promise<string>;
}
