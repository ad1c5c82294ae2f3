import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { prosodyUrl } from "../helpers/endpoints.js";
import { amoc } from "../helpers/proc.js";

const FIXTURES = new URL("../fixtures/scenarios", import.meta.url).pathname;

describe("windowed thresholds and 'abort' on real runs", () => {
  const dir = mkdtempSync(join(tmpdir(), "amoc-abort-"));
  const env = { AMOC_DATA_DIR: dir, AMOC_XMPP_SERVERS: prosodyUrl("xmpp") };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a typo of a built-in name is refused before the run; 'xmpp.connection.p99<0.001 over 2s abort' stops a 60 s ramp within its first windows and exits 3", async () => {
    // 600 users one every 100 ms: a minute of logins unless the breach stops it
    const ramp = (...thresholds: string[]) =>
      amoc(
        [
          ...["run", "login_storm", "--users", "600", "--interarrival", "100", "--repeat", "1", "--json"],
          ...thresholds.flatMap((t) => ["--threshold", t]),
        ],
        { env, timeoutMs: 60_000 },
      );
    const r = await ramp("xmpp.connection.p99<0.001 over 2s abort", "users.crashd==0");
    // the typo of a built-in name is refused before anything starts
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no such metric: users\.crashd; did you mean users\.crashed\?/);

    const ok = await ramp("xmpp.connection.p99<0.001 over 2s abort");
    expect(ok.code, ok.stderr).toBe(3);
    const out = JSON.parse(ok.stdout) as {
      users: { started: number };
      verdict: string;
      thresholds: { message: string }[];
    };
    expect(out.verdict).toBe("breached");
    expect(out.thresholds[0]?.message).toMatch(/2 s window ending/);
    // a 2 s window breaches at its first full window: stopped after a few seconds of a minute's ramp
    expect(out.users.started).toBeLessThan(100);
  });

  it("a run whose p99 is bad only during a 2 s burst fails 'over 2s' and passes 'over 12s', judged on its merged intervals", async () => {
    const r = await amoc(
      [
        ...["run", "burst", "--users", "1", "--repeat", "1", "--json"],
        ...["--threshold", "burst.t.p99<100 over 2s", "--threshold", "burst.t.p99<100 over 12s"],
      ],
      { env: { ...env, AMOC_SCENARIOS_DIR: FIXTURES }, timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(3);
    const out = JSON.parse(r.stdout) as { thresholds: { expr: string; ok: boolean; actual: number | null }[] };
    const byExpr = Object.fromEntries(out.thresholds.map((t) => [t.expr, t]));
    expect(byExpr["burst.t.p99<100 over 2s"]).toMatchObject({ ok: false });
    expect(byExpr["burst.t.p99<100 over 2s"]?.actual).toBeGreaterThan(1000);
    expect(byExpr["burst.t.p99<100 over 12s"]).toMatchObject({ ok: true });
  });
});
