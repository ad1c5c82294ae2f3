/**
 * Thresholds: `metric.stat op number` (`xmpp.message_ttd.p99<50`, `users.crashed==0`, `xmpp.connection.p95<=200`),
 * parsed with errors a user can act on and evaluated on a run's merged metric table.
 */
import { UsageError } from "../errors.js";
import type { MetricStats } from "./merge.js";

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
}

/** A threshold's outcome on a run. */
export interface ThresholdResult extends Threshold {
  ok: boolean;
  /** The measured value (null: nothing was recorded for it). */
  actual: number | null;
  /** Why it failed, in words (also when `actual` is null). */
  message: string;
}

const HINT =
  "write METRIC.STAT OP NUMBER, e.g. 'xmpp.message_ttd.p99<50', 'users.crashed==0', 'xmpp.connection.p95<=200'; STAT: count rate min max mean pNN (timings), last (gauges); OP: < <= > >= == !=";

/** Parses one threshold expression; throws UsageError (exit 2) naming what is wrong. */
export function parseThreshold(expr: string): Threshold {
  const m = /^\s*([A-Za-z0-9_.:-]+?)\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$/.exec(expr);
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

/**
 * Evaluates thresholds on a metric table. A counter never incremented counts as 0 (so `users.crashed==0` passes on a
 * run without crashes); any other statistic of a metric with no values fails with "no values recorded".
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
    else if (["value", "count", "rate"].includes(t.stat)) actual = 0;
    if (actual === undefined) {
      const why = !s
        ? `no values recorded for ${t.metric}`
        : `${t.metric} is a ${s.kind}: it has no statistic '${t.stat}'${t.stat === "value" ? " (name one, e.g. .p99)" : ""}`;
      return { ...t, ok: false, actual: null, message: why };
    }
    const ok = compare(actual, t.op, t.value);
    return {
      ...t,
      ok,
      actual,
      message: ok
        ? `${actual} ${t.op} ${t.value}`
        : `${t.metric}${t.stat === "value" ? "" : `.${t.stat}`} was ${actual}, wanted ${t.op} ${t.value}`,
    };
  });
}
