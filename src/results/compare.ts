/** `runs compare`: each metric of two runs side by side (count, rate, p50/p95/p99) with the change in % and regressions marked. */
import type { CapacityRecord } from "./capacity-record.js";
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

/** Two capacity searches compared (e.g. two server versions): the capacities, and each SLO's value per level. */
export interface CapacityComparison {
  capacity: { a: number; b: number; changePct: number | null; regression: boolean };
  /** Every level either search judged, with each SLO's value in both (null: not judged at that level). */
  steps: Array<{
    users: number;
    slos: Array<{
      slo: string;
      a: number | null;
      b: number | null;
      changePct: number | null;
      okA?: boolean;
      okB?: boolean;
    }>;
  }>;
}

/** Compares capacity search B against A (A is the baseline); a lower capacity in B is a regression. */
export function compareCapacities(a: CapacityRecord, b: CapacityRecord): CapacityComparison {
  const pct = (x: number | null, y: number | null) =>
    x !== null && y !== null && x !== 0 ? Math.round(((y - x) / x) * 1000) / 10 : null;
  // the last judgement of a level wins (a refinement may judge a level again)
  const byLevel = (r: CapacityRecord) => new Map(r.steps.map((s) => [s.users, s]));
  const [la, lb] = [byLevel(a), byLevel(b)];
  const levels = [...new Set([...la.keys(), ...lb.keys()])].sort((x, y) => x - y);
  const slos = [...new Set([...a.steps, ...b.steps].flatMap((s) => s.slos.map((x) => x.expr)))];
  return {
    capacity: {
      a: a.capacity,
      b: b.capacity,
      changePct: pct(a.capacity, b.capacity),
      regression: b.capacity < a.capacity,
    },
    steps: levels.map((users) => ({
      users,
      slos: slos.map((slo) => {
        const ra = la.get(users)?.slos.find((x) => x.expr === slo);
        const rb = lb.get(users)?.slos.find((x) => x.expr === slo);
        const [va, vb] = [ra?.actual ?? null, rb?.actual ?? null];
        return {
          slo,
          a: va,
          b: vb,
          changePct: pct(va, vb),
          ...(ra ? { okA: ra.ok } : {}),
          ...(rb ? { okB: rb.ok } : {}),
        };
      }),
    })),
  };
}
