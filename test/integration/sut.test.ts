import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readRunResults } from "../../src/results/run-results.js";
import { RunStore } from "../../src/results/store.js";
import { ejabberdUrl, endpoints, prosodyUrl } from "../helpers/endpoints.js";
import { amoc } from "../helpers/proc.js";

/** Every sut.* name the run's samplings held. */
function sutNames(dir: string): { names: Set<string>; samples: number; failed: number } {
  const store = RunStore.open(join(dir, "runs.sqlite"), { readonly: true });
  try {
    const res = readRunResults(store, "last");
    return {
      names: new Set(res.sut.flatMap((s) => Object.keys(s.values))),
      samples: res.sut.length,
      failed: res.sut.filter((s) => s.errors).length,
    };
  } finally {
    store.close();
  }
}

describe.concurrent("the server under test sampled into the run (real Prosody and ejabberd)", () => {
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), "amoc-sut-"));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  // users stay online a few seconds after their exchange, so the server's count settles on a plateau at the peak
  const run = (dir: string, url: string, env: Record<string, string>) =>
    amoc(
      [
        "run",
        "one_to_one",
        "--users",
        "40",
        "--interarrival",
        "5",
        "--repeat",
        "1",
        "--set",
        "linger_ms=2000",
        "--report",
        join(dir, "r.html"),
        "--threshold",
        "sut.process_cpu.max<8",
      ],
      { env: { AMOC_DATA_DIR: dir, AMOC_XMPP_SERVERS: url, ...env }, timeoutMs: 60_000 },
    );

  it("Prosody: sessions and memory from mod_http_openmetrics, CPU and RSS from /proc, charts in the report, and our users online agree with its sessions at the peak", async () => {
    const p = endpoints().prosody;
    const dir = tmp();
    const r = await run(dir, prosodyUrl("xmpp"), {
      AMOC_SUT_METRICS_URL: `http://127.0.0.1:${p.http}/metrics`,
      AMOC_SUT_PROCESS: `${p.runDir}/pids/prosody.pid`,
    });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(
      /^server {4}sampled \d+ times; CPU max [\d.]+ cores; RSS max [\d.]+ MiB; sessions max 40/m,
    );
    expect(r.stdout).toMatch(/at the peak: our users online 40, server sessions 40 \(0 % apart\)$/m);
    const { names, samples, failed } = sutNames(dir);
    expect(samples).toBeGreaterThanOrEqual(3);
    expect(failed).toBe(0);
    for (const n of [
      "sut.sessions",
      "sut.prosody_mod_c2s__connections",
      "sut.process_resident_memory_bytes",
      "sut.lua_heap_bytes",
      "sut.process_cpu",
      "sut.process_rss_bytes",
      "sut.process_open_files",
    ])
      expect(names, n).toContain(n);
    const html = readFileSync(join(dir, "r.html"), "utf8");
    for (const title of [
      "Users online vs server CPU",
      "Server sessions vs our connected users",
      "TTD p99 vs server memory",
      "Server: sut.process_resident_memory_bytes",
    ])
      expect(html).toContain(title);
    expect(html).toMatch(
      /our users online <b>40<\/b>, the server's sessions <b>40<\/b>, 0 % apart \(agree within 1 %\)/,
    );
  });

  it("ejabberd: sessions from mod_http_api, CPU and RSS of its BEAM from /proc; a metrics URL that refuses is counted, not fatal", async () => {
    const e = endpoints().ejabberd;
    const dir = tmp();
    const r = await run(dir, ejabberdUrl("xmpp"), {
      AMOC_SUT_METRICS_URL: `ejabberd-api+http://127.0.0.1:${e.http}/api,http://127.0.0.1:${e.http}/no-metrics-here`,
      AMOC_SUT_PROCESS: `${e.runDir}/ejabberd/ejabberd.pid`,
    });
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toMatch(/at the peak: our users online 40, server sessions 40 \(0 % apart\)$/m);
    expect(r.stdout).toMatch(/failed: http:\/\/127\.0\.0\.1:\d+\/no-metrics-here: GET .* answered 404/);
    const { names, samples, failed } = sutNames(dir);
    expect(failed).toBe(samples);
    for (const n of ["sut.sessions", "sut.ejabberd_processes", "sut.process_cpu", "sut.process_rss_bytes"])
      expect(names, n).toContain(n);
    expect(readFileSync(join(dir, "r.html"), "utf8")).toContain("Server samplings that failed (sut.scrape_errors)");
  });

  it("a process that does not run refuses the run before anything starts", async () => {
    const dir = tmp();
    const r = await run(dir, prosodyUrl("xmpp"), { AMOC_SUT_PROCESS: "no-such-server-process" });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/AMOC_SUT_PROCESS: no process named 'no-such-server-process' runs on this machine/);
  });
});
