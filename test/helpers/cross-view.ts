/**
 * The cross-view check of a run of known samples (test/fixtures/scenarios/known_samples.ts: 1..100 ms and
 * 987.654 ms): the --json summary, every threshold, JUnit, the run store and the HTML report give the same count,
 * min, max, p50 and p99.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { amoc, type ProcResult } from "./proc.js";

export const KNOWN_SAMPLES = new URL("../fixtures/scenarios/known_samples.ts", import.meta.url).pathname;
export const STATS = ["count", "min", "max", "p50", "p99"] as const;

/** The `bin/amoc run` options that write every view into `dir` and breach every threshold on purpose. */
export function viewArgs(dir: string): string[] {
  // every threshold is breached, so each one reports the value it read ("was X")
  const thresholds = STATS.flatMap((s) => ["--threshold", `known.t.${s}<0`]);
  return ["--json", "--report", join(dir, "r.html"), "--junit", join(dir, "j.xml"), ...thresholds];
}

/** Checks that every view of the finished run `r` (its data dir in `env`) agrees with its --json summary. */
export async function expectViewsAgree(r: ProcResult, dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  expect(r.code, r.stderr).toBe(3);
  const summary = JSON.parse(r.stdout) as {
    metrics: Record<string, Record<string, number>>;
    thresholds: Array<{ stat: string; actual: number }>;
  };
  const want = summary.metrics["known.t"] as Record<string, number>;
  // the exact max is what every view shows, no percentile above it
  expect(want).toMatchObject({ count: 101, min: 1, max: 987.65 });
  expect(want.p99).toBeLessThanOrEqual(want.max as number);
  expect(Math.abs((want.p50 as number) - 51)).toBeLessThan(0.1);

  for (const t of summary.thresholds) expect(t.actual, `threshold ${t.stat}`).toBe(want[t.stat]);
  const junit = readFileSync(join(dir, "j.xml"), "utf8");
  for (const s of STATS) expect(junit).toContain(`known.t.${s} was ${want[s]},`);
  expect(r.stderr).toContain(`known.t.max was ${want.max}`);

  const show = await amoc(["runs", "show", "last", "--json"], { env });
  expect(show.code, show.stderr).toBe(0);
  const stored = (JSON.parse(show.stdout) as { metrics: Record<string, Record<string, number>> }).metrics[
    "known.t"
  ] as Record<string, number>;
  for (const s of STATS) expect(stored[s], `store ${s}`).toBe(want[s]);

  const html = readFileSync(join(dir, "r.html"), "utf8");
  for (const s of STATS) expect(html, `report ${s}`).toContain(String(want[s]));
  expect(html).not.toContain("988.16");
}
