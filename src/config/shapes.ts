/**
 * Load shapes and scenario mixes as data (run settings `stages`, `arrival_rate`, `arrival_process`, `mix`): their
 * parsed types and the checks that say what is wrong with a value. Compiling a shape into start instants is
 * `shapes/stages.ts`; assigning scenarios by weight is `shapes/mix.ts`.
 */
import { SCENARIO_NAME_RE } from "./names.js";
import { parseDurationMs } from "./parse.js";

/** One stage: over `durationMs`, move linearly from the previous target to `target` (users, or users per second). */
export interface Stage {
  durationMs: number;
  target: number;
}

/** How open-model arrivals are spread: evenly (`constant`) or as a Poisson process with the planned rate. */
export type ArrivalProcess = "constant" | "poisson";

/** Scenario name -> integer weight. */
export type MixWeights = Record<string, number>;

const STAGE_HINT =
  'e.g. [{"duration": "60s", "target": 1000}, {"duration": "5m", "target": 1000}, {"duration": "30s", "target": 0}]';
/** Above this many stages a shape is surely a mistake (and would bloat every start command). */
const MAX_STAGES = 1000;
/** The sum of a mix's weights is the length of one weighted round. */
export const MAX_MIX_ROUND = 10_000;

/** Reads a JSON string (env, `--set`, `--stages`) into a value; anything else is returned for the check to refuse. */
export function coerceJson(raw: string): unknown {
  const s = raw.trim();
  if (s === "") return [];
  try {
    return JSON.parse(s) as unknown;
  } catch {
    return raw;
  }
}

/** Parses stages given as `{duration: "60s" | ms, target}` (or `rate` for a constant-rate stage); throws a message. */
export function parseStages(v: unknown): Stage[] {
  if (!Array.isArray(v)) throw new Error(`must be a JSON list of stages (${STAGE_HINT})`);
  if (v.length > MAX_STAGES) throw new Error(`must have at most ${MAX_STAGES} stages`);
  const out: Stage[] = [];
  v.forEach((s, i) => {
    if (typeof s !== "object" || s === null || Array.isArray(s))
      throw new Error(`stage ${i} must be an object (${STAGE_HINT})`);
    const o = s as Record<string, unknown>;
    for (const k of Object.keys(o))
      if (!["duration", "target", "rate", "durationMs"].includes(k))
        throw new Error(`stage ${i} has the unknown key '${k}' (keys: duration, target)`);
    const d = o.durationMs ?? o.duration;
    const durationMs = typeof d === "number" || typeof d === "string" ? parseDurationMs(d) : undefined;
    if (durationMs === undefined || durationMs <= 0)
      throw new Error(`stage ${i}: duration must be above 0 (e.g. "30s", "5m", 1500)`);
    const t = o.target ?? o.rate;
    if (typeof t !== "number" || !Number.isFinite(t) || t < 0)
      throw new Error(`stage ${i}: target must be a number >= 0`);
    out.push({ durationMs, target: t });
  });
  return out;
}

/** Parses a mix `{scenario: weight}`: scenario names, positive integer weights, at most MAX_MIX_ROUND in sum. */
export function parseMix(v: unknown): MixWeights {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new Error('must be an object of scenario weights, e.g. {"one_to_one": 3, "muc": 1}');
  let sum = 0;
  for (const [k, w] of Object.entries(v)) {
    if (!SCENARIO_NAME_RE.test(k)) throw new Error(`'${k}' is not a scenario name`);
    if (typeof w !== "number" || !Number.isInteger(w) || w < 1)
      throw new Error(`the weight of '${k}' must be a positive integer`);
    sum += w;
  }
  if (sum > MAX_MIX_ROUND) throw new Error(`the weights add up to ${sum}, more than ${MAX_MIX_ROUND}: divide them`);
  return v as MixWeights;
}

/** A check in the form formats use: the message, or undefined when the value parses. */
export function problemOf(parse: (v: unknown) => unknown): (v: unknown) => string | undefined {
  return (v) => {
    try {
      parse(v);
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  };
}

/** Parses `{name: {rate, interval} | {interarrival}}`: the throttles a run starts. */
export function parseThrottles(
  v: unknown,
): Record<string, { rate?: number; interval?: number; interarrival?: number }> {
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new Error('must be an object of throttles, e.g. {"msg": {"rate": 100, "interval": 1000}}');
  for (const [k, c] of Object.entries(v)) {
    if (typeof c !== "object" || c === null || Array.isArray(c))
      throw new Error(`throttle '${k}' must be {rate, interval} or {interarrival}`);
    const o = c as Record<string, unknown>;
    for (const key of Object.keys(o))
      if (!["rate", "interval", "interarrival"].includes(key))
        throw new Error(`throttle '${k}' has the unknown key '${key}'`);
    const ok = (x: unknown, min: number) => x === undefined || (typeof x === "number" && x >= min);
    if (
      !ok(o.rate, 0) ||
      !ok(o.interval, 1) ||
      !ok(o.interarrival, 0) ||
      (o.rate === undefined && o.interarrival === undefined)
    )
      throw new Error(`throttle '${k}' needs rate >= 0 (per interval ms, default 60000) or interarrival >= 0`);
  }
  return v as Record<string, { rate?: number; interval?: number; interarrival?: number }>;
}
