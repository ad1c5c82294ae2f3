import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { prosodyUrl } from "../helpers/endpoints.js";
import { amoc } from "../helpers/proc.js";

describe("amoc run records every run; thresholds, --report, --junit, runs (--name) and runs compare (Prosody)", () => {
  const dir = mkdtempSync(join(tmpdir(), "amoc-runs-"));
  // a data directory of its own: the run store is <data_dir>/runs.sqlite
  const env = { AMOC_DATA_DIR: dir, AMOC_XMPP_SERVERS: prosodyUrl("xmpp") };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (extra: string[]) =>
    amoc(["run", "one_to_one", "--users", "20", "--interarrival", "10", "--repeat", "1", ...extra], {
      env,
      timeoutMs: 90_000,
    });

  it("a breached threshold exits 3 and the report shows the breach; a met one exits 0; runs lists both; compare prints them side by side", async () => {
    const breached = await run([
      "--report",
      join(dir, "r1.html"),
      "--threshold",
      "xmpp.message_ttd.p99<0.001",
      "--junit",
      join(dir, "j1.xml"),
    ]);
    expect(breached.stderr).toMatch(/threshold BREACHED {2}xmpp\.message_ttd\.p99<0\.001/);
    expect(breached.code).toBe(3);
    const html = readFileSync(join(dir, "r1.html"), "utf8");
    expect(html).toContain('class="verdict breached"');
    expect(html).toMatch(
      /xmpp\.message_ttd\.p99&lt;0\.001<\/td><td class="num">[\d.]+<\/td><td class="outcome">BREACHED/,
    );
    expect(readFileSync(join(dir, "j1.xml"), "utf8")).toMatch(
      /<failure message="xmpp\.message_ttd\.p99 was [\d.]+, wanted &lt; 0\.001"/,
    );

    const met = await run(["--threshold", "xmpp.message_ttd.p99<5000", "--threshold", "users.crashed==0"]);
    expect(met.code, met.stderr).toBe(0);

    const list = await amoc(["runs"], { env });
    expect(list.code).toBe(0);
    const rows = list.stdout.trim().split("\n").slice(1);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/one_to_one .* passed$/);
    expect(rows[1]).toMatch(/one_to_one .* breached$/);
    // --name keeps one scenario's runs
    expect((await amoc(["runs", "--name", "one_to_one"], { env })).stdout).toBe(list.stdout);
    expect((await amoc(["runs", "--name", "dummy"], { env })).stdout).toMatch(/^no runs of 'dummy' recorded/);

    const cmp = await amoc(["runs", "compare", "last~1", "last"], { env });
    expect(cmp.code).toBe(0);
    expect(cmp.stdout).toMatch(/^xmpp\.message_ttd\s+p99\s+[\d.]+\s+[\d.]+\s+[+-][\d.]+%/m);
    expect(cmp.stdout).toMatch(/^xmpp\.messages_sent\s+count\s+100\s+100\s+\+?0\.0%/m);

    const out = join(dir, "again.html");
    const rep = await amoc(["report", "last~1", "-o", out], { env });
    expect(rep.code).toBe(0);
    expect(existsSync(out)).toBe(true);
  });

  it("a malformed threshold is a usage error (exit 2) before anything runs", async () => {
    const r = await run(["--threshold", "xmpp.message_ttd.p99 <> 5"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/invalid threshold/);
  });

  it("runs show and report of an unknown run say how to find one", async () => {
    const r = await amoc(["runs", "show", "nope"], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no run 'nope'[\s\S]*bin\/amoc runs/);
  });
});
