/**
 * The commands a master sends a worker (request/reply) and the reply each one gets: `ReplyOf` maps every command
 * type to its reply's type, and `REPLY_CHECKS` checks a reply against it before the master reads it.
 */
import type { StatusReport } from "../../controller/types.js";
import type { ProcessHealth } from "../../metrics/process-sampler.js";
import type { RangePlan } from "../../users/schedule.js";
import type { Progression } from "../id-sets.js";
import type { Problem } from "../problems.js";
import { checks, type Check } from "./checks.js";

export interface PrepareCmd {
  v: 1;
  type: "prepare";
  from: string;
  runId: string;
  scenario: string;
  settings: Record<string, unknown>;
  /** Uploaded scenario version (content hash) to load. */ version?: string;
}
export interface StartCmd {
  v: 1;
  type: "start";
  from: string;
  runId: string;
  plans: RangePlan[];
  /** Names this deal: a worker that already took it answers again without starting the users twice. */ dealId?: string;
}
export interface TopIdsCmd {
  v: 1;
  type: "top_ids";
  from: string;
  runId: string;
  n: number;
  force: boolean;
}
/** Removes the IDs of `ranges` (compact: the message does not grow with the number of users). */
export interface RemoveIdsCmd {
  v: 1;
  type: "remove_ids";
  from: string;
  runId: string;
  ranges: Progression[];
  force: boolean;
}
export interface UpdateSettingsCmd {
  v: 1;
  type: "update_settings";
  from: string;
  runId: string;
  settings: Record<string, unknown>;
}
export interface StopCmd {
  v: 1;
  type: "stop";
  from: string;
  runId: string;
}
export interface StatusCmd {
  v: 1;
  type: "status";
  from: string;
}

/** Every command a worker serves. */
export type Command = PrepareCmd | StartCmd | TopIdsCmd | RemoveIdsCmd | UpdateSettingsCmd | StopCmd | StatusCmd;
export type CommandType = Command["type"];
/** The command of one type. */
export type CommandOf<K extends CommandType> = Extract<Command, { type: K }>;

export const COMMAND_TYPES = [
  "prepare",
  "start",
  "top_ids",
  "remove_ids",
  "update_settings",
  "stop",
  "status",
] as const satisfies readonly CommandType[];

/**
 * A command as sent: with the cluster it is meant for and the boot ID of the process it addresses, so a worker
 * of another cluster (or a second process under the same node name) does not act on it.
 */
export type Addressed<C extends Command = Command> = C & { cluster: string; to: string };

/** Adds the envelope fields of a command for the process `boot` of a node in `cluster`. */
export function address<C extends Command>(cmd: C, cluster: string, boot: string): Addressed<C> {
  return { ...cmd, cluster, to: boot };
}

/** Start-time error of a worker's users, ms (the cluster benchmark reads it from status). */
export interface StartLag {
  count: number;
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * A worker's status: its controller's (user counts, crashes by reason, settings, state), the run it is in, its
 * start-time error, problems and process health. Counts only: the run's metrics travel as results intervals.
 */
export interface WorkerStatus extends StatusReport {
  run_id: string | null;
  start_lag_ms: StartLag;
  problems: Problem[];
  health: ProcessHealth;
}

/** The reply to each command, by command type. */
export interface ReplyOf {
  prepare: { run_id: string; state: string };
  /** `repeated`: the deal was taken before (its answer was lost); nothing started twice. */
  start: { scheduled: number; repeated?: boolean };
  /** `ranges`: users not being removed; `escalate` (forced only): users being removed gracefully. */
  top_ids: { count: number; ranges: Progression[]; escalate: Progression[] };
  remove_ids: { removed: number };
  update_settings: { changed: Record<string, unknown> };
  /**
   * The worker's status after the stop; `final_interval`: it published its last results interval of the run
   * before this reply (false: it was not in the run, so it sends none).
   */
  stop: WorkerStatus & { final_interval: boolean };
  status: WorkerStatus;
}

/** The reply to any command, as it travels. */
export type Reply =
  | { v: 1; type: "reply"; from: string; ok: true; result: unknown }
  | { v: 1; type: "reply"; from: string; ok: false; error: { code: string; message: string; hint: string } };

const { str, count, bool, obj, nullable, optional, arrayOf, shape, recordOf, progression, problem } = checks;
const ranges = arrayOf(progression, 100_000);
const workerStatus = {
  state: str,
  run_id: nullable(str),
  users: recordOf(count, "counts"),
  problems: arrayOf(problem, 10_000),
};

/** Why a command's reply is not of its type (undefined: it is); the fields the master reads are checked. */
const REPLY_CHECKS: { [K in CommandType]: Check } = {
  prepare: shape({ run_id: str, state: str }),
  start: shape({ scheduled: count, repeated: optional(bool) }),
  top_ids: shape({ count: count, ranges, escalate: ranges }),
  remove_ids: shape({ removed: count }),
  update_settings: shape({ changed: obj }),
  stop: shape({ ...workerStatus, final_interval: bool }),
  status: shape(workerStatus),
};

/** The reply of the command `type` from an unchecked result: the result, or why it is not one. */
export function checkReply<K extends CommandType>(
  type: K,
  result: unknown,
): { ok: true; reply: ReplyOf[K] } | { ok: false; reason: string } {
  const bad = REPLY_CHECKS[type](result);
  return bad ? { ok: false, reason: `${type} reply: ${bad}` } : { ok: true, reply: result as ReplyOf[K] };
}
