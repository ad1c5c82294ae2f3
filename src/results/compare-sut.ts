/**
 * `runs compare` of the server under test: each sut.* series of two runs as p50/p95/p99 over its samplings (how
 * busy the server was most of the run, and at its worst), its failed samplings as a count. The server working harder
 * for the same load (CPU or memory p95 up by REGRESSION_PCT) is marked a regression. sut.scrape_errors is a counter of
 * the runs' tables, compared with the load's counters (compare.ts: an error rate that grows is a regression).
 */
import { REGRESSION_PCT, type ComparedStat, type MetricComparison, type StatChange } from "./compare.js";
import { SUT_PROCESS_CPU, SUT_PROCESS_RSS, type SutSample } from "./sut-series.js";

const WORSE_WHEN_HIGHER = new Set([SUT_PROCESS_CPU, SUT_PROCESS_RSS]);

/** The p-th percentile (nearest rank) of `xs`, sorted ascending. */
function pct(xs: number[], p: number): number {
  return xs[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))] as number;
}

function stats(samples: readonly SutSample[], name: string): Partial<Record<ComparedStat, number>> | undefined {
  const xs = samples
    .map((s) => s.values[name])
    .filter((v): v is number => v !== undefined)
    .sort((x, y) => x - y);
  if (!xs.length) return undefined;
  return { p50: pct(xs, 50), p95: pct(xs, 95), p99: pct(xs, 99) };
}

function change(a: number | null, b: number | null, regression: boolean): StatChange {
  const changePct = a !== null && b !== null && a !== 0 ? Math.round(((b - a) / a) * 1000) / 10 : null;
  return { a, b, changePct, regression };
}

/** Compares run B's server series against run A's (none when neither run sampled a server). */
export function compareSut(a: readonly SutSample[], b: readonly SutSample[]): MetricComparison[] {
  if (!a.length && !b.length) return [];
  const names = [...new Set([...a, ...b].flatMap((s) => Object.keys(s.values)))].sort();
  return names.map((metric) => {
    const sa = stats(a, metric);
    const sb = stats(b, metric);
    const rows: MetricComparison["stats"] = {};
    for (const p of ["p50", "p95", "p99"] as const) {
      const va = sa?.[p] ?? null;
      const vb = sb?.[p] ?? null;
      const worse =
        p === "p95" &&
        WORSE_WHEN_HIGHER.has(metric) &&
        va !== null &&
        vb !== null &&
        vb > va * (1 + REGRESSION_PCT / 100);
      rows[p] = change(va, vb, worse);
    }
    return { metric, kind: "gauge", stats: rows, regression: Object.values(rows).some((s) => s.regression) };
  });
}
