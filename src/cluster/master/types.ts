/** The shapes the Master takes and returns (its public API: node/dist-api.ts and the tests read them). */
import type { Clock } from "../../clock.js";
import type { Controller } from "../../controller/controller.js";
import type { Logger } from "../../log.js";
import type { Telemetry } from "../../telemetry.js";
import type { UserCounts } from "../../users/user-pool.js";
import type { ClusterBus, KvStore } from "../bus.js";
import type { Member, Membership } from "../membership.js";
import type { Problem, Problems } from "../problems.js";
import type { CommandOf, CommandType, ReplyOf } from "../protocol.js";
import type { ResultsFeed } from "../results-feed.js";
import type { LastCounts, RunStore } from "../run-state.js";
import type { SourceStore } from "../scenario-ref.js";
import type { Subjects } from "../subjects.js";

export type { LastCounts } from "../run-state.js";

/** Which workers a command addresses: by name, or by labels (all must match). Default: every live worker. */
export interface NodeSelector {
  nodes?: string[];
  labels?: Record<string, string>;
}

/** Options of cluster-wide commands. */
export interface DistOptions extends NodeSelector {
  settings?: Record<string, unknown>;
  comment?: string;
  force?: boolean;
  /** Uploaded scenario version (content hash) the workers load. */
  version?: string;
}

/** A node's failure: why, and its error code when it answered with one (a node that does not answer is named). */
export interface NodeFailure {
  ok: false;
  error: string;
  code?: string;
}

/** One node's answer to a command: its typed reply, or why it failed. */
export type NodeResult<R = Record<string, unknown>> = { ok: true; result: R } | NodeFailure;

/**
 * A worker lost during the run (down without a goodbye, or gone without leaving its final counts): listed in
 * status and stop, never dropped. `last`: what it had done, as last reported (null: it reported nothing this
 * master received); `redealt_to`: how many of its unfinished users went to each other worker.
 */
export interface LostNode extends NodeFailure {
  lost: true;
  last: LastCounts | null;
  redealt_to: Record<string, number>;
}

/** A worker that left the run normally, with its final counts. */
export type LeftStatus = { state: "left"; run_id: null; users: UserCounts };

/** A node's status in status and stop: its reply, or the final counts of a worker that left. */
export type NodeStatus = ReplyOf["status"] | LeftStatus;

/** A node's entry in status and stop: its answer, or a lost worker. */
export type NodeEntry<R = Record<string, unknown>> = NodeResult<R> | LostNode;

/** A problem of some node, as status and stop report it. */
export interface NodeProblem extends Problem {
  node: string;
}

/** User counts summed over the nodes that answered (and the final counts of those that left). */
export type UserTotals = Omit<UserCounts, never>;

/** The run as status shows it. */
export type RunView = {
  run_id: string;
  state: "running" | "finished";
  scenario: string;
  version?: string;
  master: string;
  master_alive: boolean;
  from: number;
  last_id: number;
  settings: Record<string, unknown>;
  lost_nodes: string[];
  left_nodes: string[];
};

/**
 * `status()`: the run, user totals, this master's and every node's problems, and every node's status (a lost one as
 * a LostNode). No metrics: the run's recording (node/run/) merges the results intervals every view reads.
 */
export type StatusResult = {
  run: RunView | null;
  users: UserTotals;
  problems: NodeProblem[];
  nodes: Record<string, NodeEntry<NodeStatus>>;
};

/**
 * `stop()`: resolves once every answering worker's final results interval was delivered to the results feed (or a
 * short bound passed: a worker that died meanwhile is then lost), so the run's recording holds every interval.
 */
export type StopResult = {
  run_id: string;
  scenario: string;
  users: UserTotals;
  problems: NodeProblem[];
  failed: string[];
  /** An answering worker's stop reply says whether its final interval went out first (`final_interval`). */
  nodes: Record<string, NodeEntry<ReplyOf["stop"] | LeftStatus>>;
};

/** `do()`: the run started, its user range, how many users nobody took, and each worker's answer. */
export type DoResult = {
  run_id: string;
  scenario: string;
  from: number;
  to: number;
  users: number;
  undealt: number;
  failed: string[];
  nodes: Record<string, NodeResult>;
};

/** `add()`: what `do()` answers, less the run and scenario it already named. */
export type AddResult = Omit<DoResult, "run_id" | "scenario">;

/** `remove()`: `ids` is the lowest and highest ID chosen (empty when none). */
export type RemoveResult = {
  requested: number;
  removed: number;
  force: boolean;
  ids: number[];
  failed: string[];
  nodes: Record<string, NodeResult>;
};

/** Everything the master needs. */
export interface MasterDeps {
  bus: ClusterBus;
  kv: KvStore;
  subjects: Subjects;
  membership: Membership;
  /** This node's controller, used only to validate scenarios and settings before dealing. */
  controller: Controller;
  telemetry: Telemetry;
  log: Logger;
  nodeName: string;
  timeoutMs: number;
  /** Where a scenario given by path is stored by content for the workers (cluster/scenario-ref.ts). */
  sources?: SourceStore;
  /** The node's results feed: the workers' counts and final intervals come from it. */
  results?: ResultsFeed;
  clock?: Clock;
}

/** What the master's parts share: its dependencies, the run record, its problems, the live workers and sending. */
export interface MasterCtx {
  readonly d: MasterDeps;
  readonly clock: Clock;
  readonly store: RunStore;
  readonly problems: Problems;
  /** Live workers matching the selector, sorted by name (the order IDs are dealt in). */
  workers(sel?: NodeSelector): Member[];
  /** Sends a command to each node in parallel (master/broadcast.ts); every node gets an entry. */
  send<K extends CommandType>(
    nodes: string[],
    make: (node: string) => CommandOf<K>,
    timeoutMs?: number,
  ): Promise<Record<string, NodeResult<ReplyOf[K]>>>;
}
