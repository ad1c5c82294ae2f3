import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SutSampleError, UsageError } from "../../src/errors.js";
import { recordRun } from "../../src/results/recorder.js";
import { readRunResults } from "../../src/results/run-results.js";
import { RunStore } from "../../src/results/store.js";
import { compareSut } from "../../src/results/compare-sut.js";
import { parseThresholds } from "../../src/results/thresholds.js";
import type { SutSample } from "../../src/results/sut-series.js";
import { EjabberdApi } from "../../src/sut/ejabberd-api.js";
import { MetricsScraper, type FetchFn } from "../../src/sut/metrics-scraper.js";
import { findProcess } from "../../src/sut/process-find.js";
import { ProcessSampler } from "../../src/sut/process-sampler.js";
import type { ProcReader } from "../../src/sut/proc-reader.js";
import { SutSampler } from "../../src/sut/sampler.js";
import { parseSelect } from "../../src/sut/select.js";
import type { SutSource } from "../../src/sut/source.js";
import { FakeClock } from "../helpers/fake-clock.js";

const T0 = 1_800_000_000_000;
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fake /proc of one process `pid` whose CPU ticks and RSS the test sets. */
function fakeProc(pid: number, comm: string, argv: string[]) {
  const st = { ticks: 0, rssKb: 1000, fds: 3 };
  const files: Record<string, () => string> = {
    [`/proc/${pid}/stat`]: () => `${pid} (${comm}) S 1 1 1 0 -1 0 0 0 0 0 ${st.ticks} 0 0 0 20 0 1 0`,
    [`/proc/${pid}/status`]: () => `Name:\t${comm}\nVmRSS:\t    ${st.rssKb} kB\n`,
    [`/proc/${pid}/comm`]: () => `${comm}\n`,
    [`/proc/${pid}/cmdline`]: () => argv.join("\0") + "\0",
    "/run/x.pid": () => `${pid} 12345\n`,
  };
  const proc: ProcReader = {
    read: (p) => {
      const f = files[p];
      if (!f) throw new Error(`ENOENT ${p}`);
      return f();
    },
    list: (p) => (p === "/proc" ? ["1", String(pid), "self"] : p === `/proc/${pid}/fd` ? Array(st.fds).fill("x") : []),
    link: () => "socket:[1]",
  };
  return { st, proc, files };
}

describe("the /proc process sampler", () => {
  it("gives CPU as cores busy between samplings (on the fake clock), RSS in bytes and open files", async () => {
    const clock = new FakeClock(T0);
    const { st, proc } = fakeProc(42, "lua5.4", ["lua5.4", "/usr/bin/prosody"]);
    const s = new ProcessSampler({ pid: 42, label: "prosody" }, clock, proc);
    expect(await s.sample()).toEqual({ "sut.process_rss_bytes": 1000 * 1024, "sut.process_open_files": 3 });
    await clock.advance(2000);
    st.ticks += 100; // 1 s of CPU over 2 s
    st.rssKb = 2048;
    expect(await s.sample()).toEqual({
      "sut.process_cpu": 0.5,
      "sut.process_rss_bytes": 2 * 2 ** 20,
      "sut.process_open_files": 3,
    });
  });

  it("says the server is gone when its process ended", async () => {
    const { proc } = fakeProc(42, "beam.smp", ["beam.smp"]);
    const s = new ProcessSampler({ pid: 7, label: "pid 7" }, new FakeClock(T0), proc);
    await expect(s.sample()).rejects.toThrow(SutSampleError);
  });

  it("finds the process by pid, pid file, comm or script name, and refuses a name that matches none", () => {
    const { proc } = fakeProc(42, "lua5.4", ["lua5.4", "/usr/bin/prosody", "--config", "x"]);
    expect(findProcess("42", proc).pid).toBe(42);
    expect(findProcess("/run/x.pid", proc).pid).toBe(42);
    expect(findProcess("prosody", proc).pid).toBe(42);
    expect(findProcess("lua5.4", proc).pid).toBe(42);
    expect(() => findProcess("ejabberd", proc)).toThrow(UsageError);
    expect(() => findProcess("ejabberd", proc)).toThrow(/no process named 'ejabberd' runs on this machine/);
    expect(() => findProcess("43", proc)).toThrow(/no process 43 runs/);
    expect(() => findProcess("/run/none.pid", proc)).toThrow(/cannot read the pid file/);
  });
});

const answer =
  (body: string, status = 200): FetchFn =>
  () =>
    Promise.resolve(new Response(body, { status }));

describe("a process name that several processes bear", () => {
  it("means the one listening on a port the run talks to, and is refused when none does", () => {
    const files: Record<string, string> = {
      "/proc/net/tcp":
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
        "   0: 0100007F:1466 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1\n",
    };
    for (const pid of [10, 11]) {
      files[`/proc/${pid}/stat`] = `${pid} (lua5.4) S`;
      files[`/proc/${pid}/comm`] = "lua5.4\n";
      files[`/proc/${pid}/cmdline`] = "lua5.4\0/usr/bin/prosody\0";
    }
    const proc: ProcReader = {
      read: (p) => {
        const f = files[p];
        if (f === undefined) throw new Error(`ENOENT ${p}`);
        return f;
      },
      list: (p) => (p === "/proc" ? ["10", "11"] : ["0", "1"]),
      link: (p) => (p === "/proc/11/fd/1" ? "socket:[555]" : "socket:[9]"),
    };
    // 0x1466 = 5222
    expect(findProcess("prosody", proc, [5222])).toMatchObject({ pid: 11 });
    expect(() => findProcess("prosody", proc, [5322])).toThrow(
      /2 processes are named 'prosody' \(pids 10, 11\) and none of them listens on the run's ports \(5322\)/,
    );
  });
});

describe("the metrics scraper and ejabberd's API", () => {
  it("stores gauges as sut.<name>, counters as per-second rates, and process_* under the sut.process_* names", async () => {
    const clock = new FakeClock(T0);
    let cpu = 10;
    const fetchFn: FetchFn = () =>
      Promise.resolve(
        new Response(
          `# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total ${cpu}\nprocess_open_fds 9\n`,
        ),
      );
    const s = new MetricsScraper("http://127.0.0.1:1/metrics", parseSelect([]), clock, fetchFn);
    expect(await s.sample()).toEqual({ "sut.process_open_fds": 9, "sut.process_open_files": 9 });
    await clock.advance(1000);
    cpu = 10.25;
    expect(await s.sample()).toMatchObject({ "sut.process_cpu_seconds_total_per_s": 0.25, "sut.process_cpu": 0.25 });
  });

  it("fails with a SutSampleError naming the URL on a refused request, an HTTP error or HTML", async () => {
    const clock = new FakeClock(T0);
    const sel = parseSelect([]);
    const refused: FetchFn = () => Promise.reject(new TypeError("fetch failed", { cause: new Error("ECONNREFUSED") }));
    await expect(new MetricsScraper("http://h/m", sel, clock, refused).sample()).rejects.toThrow(
      "GET http://h/m failed: ECONNREFUSED",
    );
    await expect(new MetricsScraper("http://h/m", sel, clock, answer("no", 403)).sample()).rejects.toThrow(
      /answered 403/,
    );
    await expect(new MetricsScraper("http://h/m", sel, clock, answer("<html>")).sample()).rejects.toThrow(
      /did not answer in the Prometheus text format: line 1/,
    );
  });

  it("reads ejabberd's connected_users_number as sut.sessions", async () => {
    const asked: string[] = [];
    const fetchFn: FetchFn = (url) => {
      asked.push(url);
      return Promise.resolve(new Response(url.endsWith("/stats") ? '{"stat":217}' : '{"num_sessions":12}'));
    };
    const api = new EjabberdApi("ejabberd-api+http://127.0.0.1:5380/api/", fetchFn);
    expect(await api.sample()).toEqual({ "sut.sessions": 12, "sut.ejabberd_processes": 217 });
    expect(asked.sort()).toEqual([
      "http://127.0.0.1:5380/api/connected_users_number",
      "http://127.0.0.1:5380/api/stats",
    ]);
  });
});

/** A source that answers `values`, or fails while `down` is set. */
function source(name: string, values: Record<string, number>, merge: "sum" | "replace" = "sum") {
  const s = {
    name,
    merge,
    down: false,
    sample: () => (s.down ? Promise.reject(new SutSampleError(`${name} is down`, "")) : Promise.resolve(values)),
  };
  return s satisfies SutSource;
}

describe("the SUT sampler", () => {
  it("samples at start and on every interval boundary, counts a failing source per sampling and goes on with the others", async () => {
    const clock = new FakeClock(T0 + 300);
    const a = source("http://a/metrics", { "sut.sessions": 3, "sut.x": 1 });
    const b = source("http://b/metrics", { "sut.sessions": 4 });
    const p = source("/proc/1", { "sut.process_cpu": 0.5, "sut.x": 7 }, "replace");
    const got: SutSample[] = [];
    const sampler = new SutSampler([p, a, b], clock, 1000);
    sampler.start({ addSut: (s) => got.push(s) });
    await clock.advance(0);
    b.down = true;
    await clock.advance(1700);
    sampler.stop();
    await clock.advance(5000);
    // the boundaries of the results intervals (multiples of 1000 ms), as the aggregator cuts them
    expect(got.map((s) => s.t - T0)).toEqual([300, 1000, 2000]);
    // summed over URLs, replaced by /proc
    expect(got[0]).toEqual({ t: T0 + 300, values: { "sut.sessions": 7, "sut.x": 7, "sut.process_cpu": 0.5 } });
    expect(got[1]?.values["sut.sessions"]).toBe(3);
    expect(got[1]?.errors).toEqual({ "http://b/metrics": "http://b/metrics is down" });
    expect(clock.pending).toBe(0);
  });

  it("records samplings beside the run's intervals: thresholds, summary, report and compare see them", () => {
    const d = mkdtempSync(join(tmpdir(), "amoc-sut-"));
    dirs.push(d);
    let now = T0;
    const rec = recordRun({
      node: "n",
      storePath: join(d, "runs.sqlite"),
      intervalMs: 1000,
      scenario: "s",
      settings: {},
      users: 100,
      thresholds: parseThresholds(["sut.process_cpu.max<0.9", "sut.scrape_errors==0"]),
      reportPath: join(d, "r.html"),
      now: () => now,
    });
    for (let k = 0; k < 3; k++) {
      rec.addInterval({
        v: 1,
        node: "n",
        t: T0 + k * 1000,
        ms: 1000,
        c: k === 0 ? { "xmpp.connections": 100 } : {},
        g: { "users.running": 100 },
        h: {},
      });
      rec.addSut({
        t: T0 + (k + 1) * 1000,
        values: { "sut.process_cpu": [0.3, 0.6, 0.95][k] as number, "sut.sessions": k === 2 ? 98 : 100 },
        ...(k === 1 ? { errors: { "http://x/metrics": "GET failed" } } : {}),
      });
    }
    now = T0 + 3000;
    const end = rec.end({ summary: {}, exitCode: 0 });
    expect(end.thresholds.map((t) => [t.expr, t.ok, t.actual])).toEqual([
      ["sut.process_cpu.max<0.9", false, 0.95],
      ["sut.scrape_errors==0", false, 1],
    ]);
    const store = RunStore.open(join(d, "runs.sqlite"), { readonly: true });
    const res = readRunResults(store, end.runId);
    store.close();
    expect(res.sut).toHaveLength(3);
    expect(res.run.summary?.sut).toMatchObject({
      samples: 3,
      failed: 1,
      sessions_at_peak: { users: 100, sessions: 98, diffPct: 2, disagree: true },
    });
    const html = readFileSync(join(d, "r.html"), "utf8");
    for (const title of ["Users online vs server CPU", "Server sessions vs our connected users", "Server under test"])
      expect(html).toContain(title);
    expect(html).toContain("they disagree by more than 1 %");
    const cmp = compareSut(res.sut, res.sut.slice(0, 1));
    expect(cmp.find((m) => m.metric === "sut.process_cpu")?.stats.p50).toMatchObject({
      a: 0.6,
      b: 0.3,
      changePct: -50,
    });
  });
});
