/**
 * Thresholds: `metric.stat op number` (`xmpp.message_ttd.p99<50`, `users.crashed==0`, `xmpp.connection.p95<=200`),
 * parsed with errors a user can act on and evaluated on a run's merged metric table.
 */
import { parseDurationMs } from "../config/parse.js";
import { UsageError } from "../errors.js";
import type { MetricStats } from "./merge.js";
import { BUILTIN_NAMES, builtinTypo, noSuchMetric } from "./metric-suggest.js";
import {
  COUNTER_FAMILIES,
  SCENARIO_INIT_FAILURES,
  USERS_CRASHED,
  USERS_FINISHED,
  USERS_REMOVED,
  USERS_STARTED,
  XMPP_COUNTER_NAMES,
} from "../metrics/names.js";

export const THRESHOLD_OPS = ["<=", ">=", "==", "!=", "<", ">"] as const;
export type ThresholdOp = (typeof THRESHOLD_OPS)[number];

/** The exit code of a run whose thresholds were breached (docs/architecture.md). */
export const THRESHOLD_BREACH_EXIT = 3;

/** A parsed threshold. `stat` is `value` when the expression names none (counter: count, gauge: last). */
export interface Threshold {
  expr: string;
  metric: string;
  stat: string;
  op: ThresholdOp;
  value: number;
  /** `over 30s`: judged on every sliding window of this many ms of the run's intervals (results/window.ts). */
  windowMs?: number;
  /** `abort`: the run stops at its first breach (exit 3), as `--abort-on-fail` does for every threshold. */
  abort?: boolean;
}

/** A threshold's outcome on a run. */
export interface ThresholdResult extends Threshold {
  ok: boolean;
  /**
   * `no_metric`: the run never recorded the metric, so the threshold could not be checked; it is not a pass (the run
   * fails as on a breach, exit 3).
   */
  status: "ok" | "breached" | "no_metric";
  /** The measured value (null: nothing was recorded for it). */
  actual: number | null;
  /** Why it failed, in words (also when `actual` is null). */
  message: string;
}

const STAT_RE = /^(count|rate|min|max|mean|avg|last|value|p\d+(?:\.\d+)?)$/;

const HINT =
  "write METRIC.STAT OP NUMBER [over DURATION] [abort], e.g. 'xmpp.message_ttd.p99<50', 'users.crashed==0', 'xmpp.connection.p95<=200'; STAT: count rate min max mean pNN (timings), last (gauges); OP: < <= > >= == !=";

/** Parses one threshold expression (`EXPR [over DURATION] [abort]`); throws UsageError (exit 2) naming what is wrong. */
export function parseThreshold(expr: string): Threshold {
  const tail = /^(.*?)(?:\s+over\s+(\S+))?(?:\s+(abort))?\s*$/.exec(expr) as RegExpExecArray;
  const base = parseBase(expr, tail[1] as string);
  const out: Threshold = { ...base, expr: expr.trim() };
  if (tail[2] !== undefined) {
    const ms = parseDurationMs(tail[2], "s");
    if (ms === undefined || !(ms > 0))
      throw new UsageError(
        `invalid threshold '${expr}': 'over ${tail[2]}' is not a duration (e.g. over 30s, over 2m)`,
        HINT,
      );
    out.windowMs = ms;
  }
  if (tail[3]) out.abort = true;
  return out;
}

function parseBase(expr: string, body: string): Threshold {
  const m = /^\s*([A-Za-z0-9_.:-]+?)\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$/.exec(body);
  if (!m) {
    const op = /[=<>!]+/.exec(expr)?.[0];
    const why =
      op && !THRESHOLD_OPS.includes(op as ThresholdOp)
        ? `unknown operator '${op}'`
        : !op
          ? "no comparison operator"
          : "not of the form METRIC.STAT OP NUMBER";
    throw new UsageError(`invalid threshold '${expr}': ${why}`, HINT);
  }
  const [, left, op, num] = m as unknown as [string, string, ThresholdOp, string];
  const value = Number(num);
  if (!/^-?\d+(\.\d+)?(e-?\d+)?$/i.test(num) || !Number.isFinite(value))
    throw new UsageError(`invalid threshold '${expr}': '${num}' is not a number`, HINT);
  if (left.startsWith(".") || left.endsWith(".") || left.includes(".."))
    throw new UsageError(`invalid threshold '${expr}': '${left}' is not a metric name`, HINT);
  const sm = /^(.+)\.(count|rate|min|max|mean|avg|last|value|p\d+(?:\.\d+)?)$/.exec(left);
  const stat = sm ? (sm[2] === "avg" ? "mean" : (sm[2] as string)) : "value";
  const metric = sm ? (sm[1] as string) : left;
  if (STAT_RE.test(metric))
    throw new UsageError(
      `invalid threshold '${expr}': '${left}' names no metric (it is a statistic); write METRIC.${left}, e.g. 'xmpp.message_ttd.${left}${op}${num}'`,
      HINT,
    );
  const typo = builtinTypo(metric);
  if (typo) throw new UsageError(`invalid threshold '${expr}': no such metric: ${metric}; did you mean ${typo}?`, HINT);
  if (/^p\d/.test(stat) && Number(stat.slice(1)) > 100)
    throw new UsageError(`invalid threshold '${expr}': percentile ${stat.slice(1)} is above 100`, HINT);
  return { expr: expr.trim(), metric, stat, op, value };
}

/** Parses every expression; all errors at once in one UsageError. */
export function parseThresholds(exprs: readonly string[]): Threshold[] {
  const out: Threshold[] = [];
  const errors: string[] = [];
  for (const e of exprs) {
    try {
      out.push(parseThreshold(e));
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  if (errors.length) throw new UsageError(errors.join("\n"), HINT);
  return out;
}

function compare(a: number, op: ThresholdOp, b: number): boolean {
  switch (op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
    case "==":
      return a === b;
    case "!=":
      return a !== b;
  }
}

/** The statistic a threshold asks for, from a metric's stats (undefined: that metric has no such statistic). */
function statOf(s: MetricStats, stat: string, percentile: (p: number) => number | undefined): number | undefined {
  if (s.kind === "counter")
    return stat === "value" || stat === "count" ? s.count : stat === "rate" ? s.rate : undefined;
  if (s.kind === "gauge")
    return stat === "value" || stat === "last" ? s.last : stat === "min" ? s.min : stat === "max" ? s.max : undefined;
  if (stat === "value") return undefined;
  if (stat in s && stat !== "kind") return s[stat as keyof typeof s] as number;
  if (/^p\d/.test(stat)) return percentile(Number(stat.slice(1)));
  return undefined;
}

/** The built-in counters: one never incremented is absent from the table and counts as 0. */
const ZERO_COUNTERS = new Set([
  USERS_STARTED,
  USERS_FINISHED,
  USERS_REMOVED,
  USERS_CRASHED,
  SCENARIO_INIT_FAILURES,
  ...XMPP_COUNTER_NAMES,
]);
const isBuiltinCounter = (m: string) => ZERO_COUNTERS.has(m) || COUNTER_FAMILIES.some((f) => m.startsWith(f));

/**
 * Evaluates thresholds on a metric table. A built-in counter never incremented counts as 0 (so `users.crashed==0`
 * passes on a run without crashes); any other metric the run never recorded is "no such metric" (status `no_metric`,
 * not a pass), with the nearest recorded or built-in name suggested.
 * `percentile(metric, p)` answers the percentiles the table does not hold (p75, p99.9, ...).
 */
export function evaluateThresholds(
  ts: readonly Threshold[],
  table: Record<string, MetricStats>,
  percentile: (metric: string, p: number) => number | undefined = () => undefined,
): ThresholdResult[] {
  return ts.map((t) => {
    const s = table[t.metric];
    let actual: number | undefined;
    if (s) actual = statOf(s, t.stat, (p) => percentile(t.metric, p));
    else if (isBuiltinCounter(t.metric) && ["value", "count", "rate"].includes(t.stat)) actual = 0;
    else {
      const known = [...Object.keys(table), ...BUILTIN_NAMES];
      return { ...t, ok: false, status: "no_metric", actual: null, message: noSuchMetric(t.metric, known) };
    }
    if (actual === undefined) {
      const why = `${t.metric} is a ${s?.kind}: it has no statistic '${t.stat}'${t.stat === "value" ? " (name one, e.g. .p99)" : ""}`;
      return { ...t, ok: false, status: "breached", actual: null, message: why };
    }
    const ok = compare(actual, t.op, t.value);
    return {
      ...t,
      ok,
      status: ok ? "ok" : "breached",
      actual,
      message: ok
        ? `${actual} ${t.op} ${t.value}`
        : `${t.metric}${t.stat === "value" ? "" : `.${t.stat}`} was ${actual}, wanted ${t.op} ${t.value}`,
    };
  });
}
