/**
 * The one Node API every front end calls (console, attached console, REST, dashboard, `bin/amoc run`), with a local
 * implementation over the Controller and a distributed one over the Master. Both return the same shapes: results are
 * per node (one node in local mode), totals are summed over the nodes. Errors are AmocErrors (their `code` maps to
 * an exit code and an HTTP status in `ERROR_STATUS`); nothing here prints.
 */
import type { StatusReport } from "../controller/controller.js";
import type { UserCounts } from "../users/user-pool.js";

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
}

/** A command's result: what it did in total and per node. */
export interface CommandResult {
  /** Users selected/started in total (add, remove, start), when the command has such a count. */
  users?: number;
  nodes: Record<string, PerNode<Record<string, unknown>>>;
  [extra: string]: unknown;
}

/** Starting a run: users `from..from+users-1` (or `from..to`), settings are run keys and scenario variables. */
export interface StartRequest extends NodeSelector {
  scenario: string;
  users?: number;
  from?: number;
  to?: number;
  settings?: Record<string, unknown>;
  comment?: string;
  /** Uploaded scenario version (content hash) every node loads; `scenario` is then the uploaded file. */
  version?: string;
}

/** Options of add/remove/stop/update_settings. */
export interface CommandOptions extends NodeSelector {
  force?: boolean;
  comment?: string;
}

/** A scenario as listed. */
export interface ScenarioSummary {
  name: string;
  /** "builtin" (scenarios_dir) or "uploaded". */
  source: "builtin" | "uploaded";
  /** Content hash of the newest version (uploaded ones; built-ins may have one too). */
  version?: string;
}

/** A declared scenario variable, as `GET /scenarios/info/{name}` shows it. */
export interface VariableInfo {
  name: string;
  doc: string;
  default: unknown;
  updatable: boolean;
}

/** One scenario in detail. */
export interface ScenarioDetails extends ScenarioSummary {
  doc?: string;
  variables: VariableInfo[];
}

/** An accepted upload. */
export interface UploadResult {
  name: string;
  version: string;
  /** Whether this exact source was already stored (same hash). */
  unchanged: boolean;
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

/** The operations every front end uses. */
export interface NodeApi {
  readonly mode: NodeApiMode;
  /** This node's name. */
  readonly nodeName: string;
  nodes(): Promise<NodeInfo[]>;
  status(): Promise<ApiStatus>;
  /** One node's status; NODE_NOT_FOUND-like AmocError (404) for an unknown node. */
  nodeStatus(node: string): Promise<StatusReport>;
  scenarios(): Promise<ScenarioSummary[]>;
  scenarioInfo(name: string): Promise<ScenarioDetails>;
  start(req: StartRequest): Promise<CommandResult>;
  add(n: number, opts?: CommandOptions): Promise<CommandResult>;
  remove(n: number, opts?: CommandOptions): Promise<CommandResult>;
  updateSettings(settings: Record<string, unknown>, opts?: CommandOptions): Promise<CommandResult>;
  stop(opts?: CommandOptions): Promise<CommandResult>;
  /** Acts on a named throttle on every node of the run (or the selected ones); per-node results. */
  throttle?(req: ThrottleRequest, opts?: NodeSelector): Promise<CommandResult>;
}
