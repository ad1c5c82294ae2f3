/** `runs compare`: each metric of two runs side by side (count, rate, p50/p95/p99) with the change in % and regressions marked. */
import type { MetricStats } from "./merge.js";

/** The statistics compared. */
export const COMPARED = ["count", "rate", "p50", "p95", "p99"] as const;
export type ComparedStat = (typeof COMPARED)[number];

/** One statistic of one metric in both runs. */
export interface StatChange {
  a: number | null;
  b: number | null;
  /** (b - a) / a in %, null when a is 0 or either is missing. */
  changePct: number | null;
  regression: boolean;
}

/** One metric's comparison. */
export interface MetricComparison {
  metric: string;
  kind: MetricStats["kind"];
  stats: Partial<Record<ComparedStat, StatChange>>;
  regression: boolean;
}

/** Counters where more is worse. */
const BAD_COUNTER = /crash|fail|error|timeout|lost|dropped|conflict/;
/** A latency must grow by this much (relative and absolute, ms) to be a regression; an error rate by this much. */
export const REGRESSION_PCT = 10;
const MIN_LATENCY_MS = 1;

function value(s: MetricStats | undefined, stat: ComparedStat): number | null {
  if (!s || s.kind === "gauge") return null;
  if (s.kind === "counter") return stat === "count" ? s.count : stat === "rate" ? s.rate : null;
  return s[stat];
}

/** Compares run B against run A (A is the baseline). */
export function compareTables(a: Record<string, MetricStats>, b: Record<string, MetricStats>): MetricComparison[] {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return names.flatMap((metric) => {
    const sa = a[metric];
    const sb = b[metric];
    const kind = (sa ?? sb)?.kind ?? "counter";
    if (kind === "gauge") return [];
    const stats: MetricComparison["stats"] = {};
    for (const stat of COMPARED) {
      const va = value(sa, stat) ?? (kind === "counter" && (stat === "count" || stat === "rate") ? 0 : null);
      const vb = value(sb, stat) ?? (kind === "counter" && (stat === "count" || stat === "rate") ? 0 : null);
      if (va === null && vb === null) continue;
      const changePct = va !== null && vb !== null && va !== 0 ? Math.round(((vb - va) / va) * 1000) / 10 : null;
      let regression = false;
      if (va !== null && vb !== null) {
        if (kind === "timing" && stat.startsWith("p"))
          regression = vb > va * (1 + REGRESSION_PCT / 100) && vb - va >= MIN_LATENCY_MS;
        if (kind === "counter" && stat === "rate" && BAD_COUNTER.test(metric))
          regression = va === 0 ? vb > 0 : vb > va * (1 + REGRESSION_PCT / 100);
      }
      stats[stat] = { a: va, b: vb, changePct, regression };
    }
    return [{ metric, kind, stats, regression: Object.values(stats).some((s) => s.regression) }];
  });
}
