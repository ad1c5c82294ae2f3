/**
 * The messages between nodes: a versioned, discriminated union, validated on arrival. Anything malformed or
 * unknown is rejected with a reason (and logged with its sender by the receiver), never acted upon. Commands and
 * their typed replies are in protocol/commands.ts, results intervals and bucket records in protocol/results.ts.
 */
import { checks, isObj, type Check } from "./protocol/checks.js";
import { COMMAND_TYPES, type Addressed, type Reply } from "./protocol/commands.js";
import { RESULTS_SCHEMA } from "./protocol/results.js";

export * from "./protocol/commands.js";
export * from "./protocol/results.js";
export { checks, SCENARIO_NAME_RE, VERSION_RE, type Check } from "./protocol/checks.js";

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

/** A throttle op (throttle/ ThrottleOp) for one node's throttles; request/reply on the node's throttle subject. */
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
  /** Per grouped throttle, each node's fraction of its group's rate. */
  groups?: Record<string, Record<string, number>>;
}
/** A coordinator message (cluster/coordinator-*.ts): a user joins or leaves a group, or a group is released. */
export interface CoordinateMsg {
  v: 1;
  type: "coordinate";
  from: string;
  body: Record<string, unknown>;
}

const { str, int, bool, obj, nullable, optional, shape, plan, progression, arrayOf, scenarioName, version } = checks;
const fraction: Check = (f) => (typeof f === "number" && f >= 0 && f <= 1 ? undefined : "must be a fraction 0..1");

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
  results: { from: str, ...RESULTS_SCHEMA },
  throttle: { from: str, op: shape({ op: str }) },
  throttle_split: {
    from: str,
    seq: int,
    fractions: checks.recordOf(fraction, "fractions 0..1"),
    groups: optional(obj),
  },
  coordinate: { from: str, body: obj },
};
/** The fields every command carries besides its own (see Addressed). */
const ENVELOPE: Record<string, Check> = { cluster: str, to: str };

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
    from: checks.nodeName,
    ...((COMMAND_TYPES as readonly string[]).includes(v.type) ? ENVELOPE : {}),
  })(v);
  if (err) return { ok: false, reason: `${v.type}: ${err}`, from };
  return { ok: true, msg: v as unknown as T };
}

/** Serializes a message (results messages: protocol/results.ts encodeResults, around the interval's own JSON). */
export function encode(msg: Addressed | Reply | Heartbeat | ThrottleCmd | ThrottleSplitMsg | CoordinateMsg): string {
  return JSON.stringify(msg);
}
