import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { amoc } from "../helpers/proc.js";

const FIXTURE = new URL("../fixtures/scenarios/known_samples.ts", import.meta.url).pathname;
const STATS = ["count", "min", "max", "p50", "p99"] as const;

describe("one pipeline: every view of a run gives the same numbers (bin/amoc run, local)", () => {
  const dir = mkdtempSync(join(tmpdir(), "amoc-views-"));
  const env = { AMOC_DATA_DIR: dir };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("summary, --json, thresholds, the HTML report, JUnit and the run store agree on count, min, max, p50 and p99", async () => {
    // every threshold is breached on purpose, so each one reports the value it read ("was X")
    const thresholds = STATS.flatMap((s) => ["--threshold", `known.t.${s}<0`]);
    const r = await amoc(
      [
        "run",
        FIXTURE,
        "--users",
        "100",
        "--interarrival",
        "0",
        "--repeat",
        "1",
        "--json",
        "--report",
        join(dir, "r.html"),
        "--junit",
        join(dir, "j.xml"),
        ...thresholds,
      ],
      { env, timeoutMs: 90_000 },
    );
    expect(r.code, r.stderr).toBe(3);
    const summary = JSON.parse(r.stdout) as {
      metrics: Record<string, Record<string, number>>;
      thresholds: Array<{ stat: string; actual: number }>;
    };
    const want = summary.metrics["known.t"] as Record<string, number>;
    // the known samples: 1..100 ms and 987.654 ms; the exact max is what every view shows, no percentile above it
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
  });
});
