/**
 * The messages between nodes: a versioned, discriminated union, validated on arrival. Anything malformed or
 * unknown is rejected with a reason (and logged with its sender by the receiver), never acted upon.
 */
import type { RangePlan } from "../users/schedule.js";
import type { EncodedIds, Progression } from "./id-sets.js";
import { NODE_NAME_RE } from "./subjects.js";

export const PROTOCOL_VERSION = 1;

/** A node's role: workers run users; masters (and consoles) deal them. */
export type NodeRole = "worker" | "master";

/** What every node publishes once a second. */
export interface Heartbeat {
  v: 1;
  type: "heartbeat";
  from: string;
  role: NodeRole;
  /** Changes when the process restarts under the same name. */
  boot: string;
  labels: Record<string, string>;
  /** The run this node has prepared (null: none). */
  runId: string | null;
  state: string;
  running: number;
  /** Set on the last beat of a node that leaves normally: it is "left", not "down" (a worker stopped its users). */
  leaving?: boolean;
}

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

/** A throttle op (users/throttle.ts ThrottleOp) for one node's throttles; request/reply on the node's throttle subject. */
export interface ThrottleCmd {
  v: 1;
  type: "throttle";
  from: string;
  op: Record<string, unknown>;
}
/** The master's split of every cluster-wide rate: each node paces `fractions[node]` of it (published, no reply). */
export interface ThrottleSplitMsg {
  v: 1;
  type: "throttle_split";
  from: string;
  seq: number;
  fractions: Record<string, number>;
  /** Per grouped throttle, each node's fraction of its group's rate. */ groups?: Record<
    string,
    Record<string, number>
  >;
}
/** A coordinator message (cluster/coordinator-*.ts): a user joins or leaves a group, or a group is released. */
export interface CoordinateMsg {
  v: 1;
  type: "coordinate";
  from: string;
  body: Record<string, unknown>;
}

/** Every command a worker serves. */
export type Command = PrepareCmd | StartCmd | TopIdsCmd | RemoveIdsCmd | UpdateSettingsCmd | StopCmd | StatusCmd;

/**
 * A command as sent: with the cluster it is meant for and the boot ID of the process it addresses, so a worker
 * of another cluster (or a second process under the same node name) does not act on it.
 */
export type Addressed<C extends Command = Command> = C & { cluster: string; to: string };

/** Adds the envelope fields of a command for the process `boot` of a node in `cluster`. */
export function address<C extends Command>(cmd: C, cluster: string, boot: string): Addressed<C> {
  return { ...cmd, cluster, to: boot };
}

/**
 * How a command names its scenario: a name, never a path (a built-in name of the worker's scenarios_dir, or an
 * uploaded name loaded by `version`). No `/` or `.`, so it cannot reach outside a directory.
 */
export const SCENARIO_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** An uploaded scenario's version: the first 16 hex digits of its source's SHA-256 (scenario/upload-check.ts). */
export const VERSION_RE = /^[0-9a-f]{16}$/;

/** The reply to any command. */
export type Reply =
  | { v: 1; type: "reply"; from: string; ok: true; result: unknown }
  | { v: 1; type: "reply"; from: string; ok: false; error: { code: string; message: string; hint: string } };

/** Ended IDs a worker stores in the key-value bucket (an IdBitmap's encoding). */
export type EndedRecord = EncodedIds;

/** A runtime check: undefined when the value is fine, else why not. */
export type Check = (v: unknown) => string | undefined;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const str: Check = (v) =>
  typeof v === "string" && v.length > 0 && v.length <= 256 ? undefined : "must be a non-empty string";
const matching =
  (re: RegExp, what: string): Check =>
  (v) =>
    typeof v === "string" && re.test(v) ? undefined : `must be ${what}`;
/** Every sender is a node: its name follows the node-name rule (it goes into subjects and bucket keys). */
const nodeName = matching(NODE_NAME_RE, "a node name (letters, digits, '_' and '-')");
const scenarioName = matching(SCENARIO_NAME_RE, "a scenario name, not a path (letters, digits, '_' and '-')");
const version = matching(VERSION_RE, "16 hex digits");
const int: Check = (v) => (typeof v === "number" && Number.isSafeInteger(v) ? undefined : "must be an integer");
const num: Check = (v) => (typeof v === "number" && Number.isFinite(v) ? undefined : "must be a number");
const bool: Check = (v) => (typeof v === "boolean" ? undefined : "must be a boolean");
const obj: Check = (v) => (isObj(v) ? undefined : "must be an object");
const nullable =
  (c: Check): Check =>
  (v) =>
    v === null ? undefined : c(v);
const optional =
  (c: Check): Check =>
  (v) =>
    v === undefined ? undefined : c(v);
const arrayOf =
  (c: Check, max: number): Check =>
  (v) => {
    if (!Array.isArray(v)) return "must be an array";
    if (v.length > max) return `must have at most ${max} items`;
    for (let i = 0; i < v.length; i++) {
      const e = c(v[i]);
      if (e) return `[${i}] ${e}`;
    }
    return undefined;
  };
const shape =
  (fields: Record<string, Check>): Check =>
  (v) => {
    if (!isObj(v)) return "must be an object";
    for (const [k, c] of Object.entries(fields)) {
      const e = c(v[k]);
      if (e) return `${k} ${e}`;
    }
    return undefined;
  };
/** A compact ID range: integers with first <= last and step >= 1. */
const progression: Check = (v) =>
  shape({ first: int, last: int, step: int })(v) ??
  ((v as Progression).step >= 1 && (v as Progression).first <= (v as Progression).last
    ? undefined
    : "must have step >= 1 and first <= last");
const nonNeg: Check = (v) => num(v) ?? ((v as number) >= 0 ? undefined : "must be >= 0");
/** A load-shape segment (users/stages.ts ShapeSegment). */
const segment = shape({
  k: int,
  n: int,
  t: nonNeg,
  d: (v) => num(v) ?? ((v as number) > 0 ? undefined : "must be > 0"),
  r0: nonNeg,
  r1: nonNeg,
  seed: optional(int),
});
const plan = shape({
  from: int,
  to: int,
  step: (v) => int(v) ?? ((v as number) >= 1 ? undefined : "must be >= 1"),
  offset: int,
  t0Ms: num,
  baseId: int,
  interarrivalMs: num,
  segments: optional(arrayOf(segment, 1000)),
});

const SCHEMAS: Record<string, Record<string, Check>> = {
  heartbeat: {
    from: str,
    role: (v) => (v === "worker" || v === "master" ? undefined : "must be worker or master"),
    boot: str,
    labels: obj,
    runId: nullable(str),
    state: str,
    running: int,
    leaving: optional(bool),
  },
  prepare: { from: str, runId: str, scenario: scenarioName, settings: obj, version: optional(version) },
  start: { from: str, runId: str, plans: arrayOf(plan, 10_000), dealId: optional(str) },
  top_ids: { from: str, runId: str, n: int, force: bool },
  remove_ids: { from: str, runId: str, ranges: arrayOf(progression, 100_000), force: bool },
  update_settings: { from: str, runId: str, settings: obj },
  stop: { from: str, runId: str },
  status: { from: str },
  reply: { from: str, ok: bool },
  throttle: { from: str, op: shape({ op: str }) },
  throttle_split: {
    from: str,
    seq: int,
    fractions: (v) =>
      obj(v) ??
      (Object.values(v as object).every((f) => typeof f === "number" && f >= 0 && f <= 1)
        ? undefined
        : "must map node names to fractions 0..1"),
    groups: optional(obj),
  },
  coordinate: { from: str, body: obj },
};

/** Parses and validates a message; returns it, or the reason it is rejected. */
export function decode<T extends { type: string }>(
  raw: string,
  allowed: ReadonlyArray<T["type"]>,
): { ok: true; msg: T } | { ok: false; reason: string; from?: string } {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return { ok: false, reason: "not JSON" };
  }
  if (!isObj(v)) return { ok: false, reason: "not a JSON object" };
  const from = typeof v.from === "string" ? v.from : undefined;
  if (v.v !== PROTOCOL_VERSION)
    return {
      ok: false,
      reason: `unsupported protocol version ${JSON.stringify(v.v)} (this node speaks ${PROTOCOL_VERSION})`,
      from,
    };
  if (typeof v.type !== "string" || !(allowed as readonly string[]).includes(v.type) || !SCHEMAS[v.type])
    return { ok: false, reason: `unknown message type ${JSON.stringify(v.type)}`, from };
  const err = shape({
    ...(SCHEMAS[v.type] as Record<string, Check>),
    from: nodeName,
    ...((COMMAND_TYPES as readonly string[]).includes(v.type) ? ENVELOPE : {}),
  })(v);
  if (err) return { ok: false, reason: `${v.type}: ${err}`, from };
  return { ok: true, msg: v as unknown as T };
}

/** Serializes a message. */
export function encode(msg: Addressed | Reply | Heartbeat | ThrottleCmd | ThrottleSplitMsg | CoordinateMsg): string {
  return JSON.stringify(msg);
}

export const COMMAND_TYPES = [
  "prepare",
  "start",
  "top_ids",
  "remove_ids",
  "update_settings",
  "stop",
  "status",
] as const;
/** The fields every command carries besides its own (see Addressed). */
const ENVELOPE: Record<string, Check> = { cluster: str, to: str };

/** The checks the cluster applies to what it reads from the bucket and from replies (same rules as messages). */
export const checks = { str, int, num, bool, obj, nullable, optional, arrayOf, shape, progression, plan };

/** What a worker that leaves mid-run leaves in the bucket: its final counts and metrics of the run. */
export interface FinalRecord {
  v: 1;
  runId: string;
  users: Record<string, number>;
  /** An EncodedSummary (checked with checkEncodedSummary when merged). */
  summary?: unknown;
}

/** Why a final record read from the bucket is not one (undefined: it is). */
export const checkFinalRecord: Check = shape({
  runId: str,
  users: (v) =>
    isObj(v) && Object.values(v).every((x) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0)
      ? undefined
      : "must map counts to integers",
});

/** Why an ended-IDs record read from the bucket is not one (undefined: it is). */
export const checkEndedRecord: Check = shape({
  base: int,
  count: int,
  bits: (v) => (typeof v === "string" && v.length <= 24_000_000 ? undefined : "must be a string"),
});
