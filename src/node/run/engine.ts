/**
 * What differs between a run on this node alone and a run over the cluster: who the nodes are, how users start and
 * stop, and where the run's intervals come from. The run service (run-service.ts) owns the run around an engine.
 */
import type { StatusReport } from "../../controller/types.js";
import type { RunRecording } from "../../results/recorder.js";
import type {
  ApiStatus,
  CommandOptions,
  CommandResult,
  NodeApiMode,
  NodeInfo,
  NodeSelector,
  ThrottleRequest,
} from "../node-api.js";
import type { ResolvedScenario } from "../scenarios/catalog.js";

/** A start the run service validated and resolved: the scenario's file and version, one user range. */
export interface EngineStart extends NodeSelector {
  scenario: ResolvedScenario;
  from: number;
  to: number;
  settings: Record<string, unknown>;
  comment?: string;
}

/** One node's or the cluster's way of running users. */
export interface RunEngine {
  readonly mode: NodeApiMode;
  readonly nodeName: string;
  nodes(): Promise<NodeInfo[]>;
  status(): Promise<ApiStatus>;
  nodeStatus(node: string): Promise<StatusReport>;
  /**
   * Refuses a start that would fail, changing nothing: the selector, the node's or cluster's state, the scenario and
   * its settings. Called before the run is recorded.
   */
  check(req: EngineStart): Promise<void>;
  start(req: EngineStart): Promise<CommandResult>;
  add(n: number, opts?: CommandOptions): Promise<CommandResult>;
  remove(n: number, opts?: CommandOptions): Promise<CommandResult>;
  updateSettings(settings: Record<string, unknown>, opts?: CommandOptions): Promise<CommandResult>;
  stop(opts?: CommandOptions): Promise<CommandResult>;
  throttle(req: ThrottleRequest, opts?: NodeSelector): Promise<CommandResult>;
  whenNoUsers(): Promise<void>;
  waitForWorkers(n: number, timeoutMs: number, onWait?: (live: string[]) => void): Promise<string[]>;
  /** Gets ready now instead of on first use (dist: joins the cluster as master). */
  connect(): Promise<void>;
  /** Whether the recording aggregates this node's telemetry (local) or takes other nodes' intervals (dist). */
  readonly localIntervals: boolean;
  /** Feeds other nodes' intervals into `rec` (dist: the results feed); returns how to stop. */
  follow(rec: RunRecording): () => void;
}
