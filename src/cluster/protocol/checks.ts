/**
 * Runtime checks of what arrives from other nodes and from the bucket: each returns undefined when a value is fine,
 * else why not. Messages, replies and bucket records are all checked with these same rules.
 */
import type { Progression } from "../id-sets.js";
import { NODE_NAME_RE } from "../subjects.js";

/** A runtime check: undefined when the value is fine, else why not. */
export type Check = (v: unknown) => string | undefined;

/**
 * How a command names its scenario: a name, never a path (a built-in name of the worker's scenarios_dir, or an
 * uploaded name loaded by `version`). No `/` or `.`, so it cannot reach outside a directory.
 */
export const SCENARIO_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** An uploaded scenario's version: the first 16 hex digits of its source's SHA-256 (scenario/upload-check.ts). */
export const VERSION_RE = /^[0-9a-f]{16}$/;

export const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const str: Check = (v) =>
  typeof v === "string" && v.length > 0 && v.length <= 256 ? undefined : "must be a non-empty string";
const text: Check = (v) => (typeof v === "string" ? undefined : "must be a string");
const matching =
  (re: RegExp, what: string): Check =>
  (v) =>
    typeof v === "string" && re.test(v) ? undefined : `must be ${what}`;
/** Every sender is a node: its name follows the node-name rule (it goes into subjects and bucket keys). */
const nodeName = matching(NODE_NAME_RE, "a node name (letters, digits, '_' and '-')");
const scenarioName = matching(SCENARIO_NAME_RE, "a scenario name, not a path (letters, digits, '_' and '-')");
const version = matching(VERSION_RE, "16 hex digits");
const int: Check = (v) => (typeof v === "number" && Number.isSafeInteger(v) ? undefined : "must be an integer");
const count: Check = (v) => int(v) ?? ((v as number) >= 0 ? undefined : "must be >= 0");
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
/** An object whose every value passes `c` (counts by name, fractions by node). */
const recordOf =
  (c: Check, what: string): Check =>
  (v) =>
    obj(v) ?? (Object.values(v as object).every((x) => c(x) === undefined) ? undefined : `must map names to ${what}`);
/** A compact ID range: integers with first <= last and step >= 1. */
const progression: Check = (v) =>
  shape({ first: int, last: int, step: int })(v) ??
  ((v as Progression).step >= 1 && (v as Progression).first <= (v as Progression).last
    ? undefined
    : "must have step >= 1 and first <= last");
const nonNeg: Check = (v) => num(v) ?? ((v as number) >= 0 ? undefined : "must be >= 0");
/** A load-shape segment (shapes/stages.ts ShapeSegment). */
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
/** A problem a node reports in its status (cluster/problems.ts Problem). */
const problem = shape({ kind: str, message: text, affects: text, count: int });

/** The checks, by name. */
export const checks = {
  str,
  text,
  int,
  count,
  num,
  bool,
  obj,
  nullable,
  optional,
  arrayOf,
  shape,
  recordOf,
  progression,
  plan,
  problem,
  nodeName,
  scenarioName,
  version,
};
