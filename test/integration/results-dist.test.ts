/**
 * The time series of `bin/amoc run --dist`: real NATS, three real `bin/amoc worker` processes publishing their
 * intervals, the CLI process as master recording them into its run store.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readRunResults } from "../../src/results/run-results.js";
import { RunStore } from "../../src/results/store.js";
import { RUN_STORE_FILE } from "../../src/results/store-types.js";
import { useDistScratch } from "../helpers/dist-scratch.js";
import { freePort } from "../helpers/nats-cluster.js";
import { AMOC, amoc, clusterEnv, spawnAmoc } from "../helpers/proc.js";

/** The REST token given to the console (a user who sets AMOC_API_TOKEN sends it as a bearer header). */
const API_TOKEN = "results-test-token-0123456789";
const BEARER = { authorization: `Bearer ${API_TOKEN}` };

const scratch = useDistScratch("amoc-results-dist-");
const { procs } = scratch;

type Proc = ReturnType<typeof spawnAmoc>;
const start = (args: string[], e: NodeJS.ProcessEnv): Proc => spawnAmoc(args, e, procs);

/** Polls `cond` (which may throw while a file is not there yet) every 100 ms; fails naming `what` after `timeoutMs`. */
async function until(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (cond()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const env = (cluster: string, name: string) =>
  clusterEnv(scratch.nats, cluster, name, { AMOC_DATA_DIR: join(scratch.dir, `${cluster}-${name}`) });

/** `run dummy --dist` over 3 workers: 30 users 10 ms apart, each running `repeat` times 100 ms apart, JSON and a report. */
const distRun = (repeat: string, sleepMs: number, report: string) =>
  [
    ["run", "dummy", "--dist", "--workers", "3", "--users", "30", "--interarrival", "10"],
    [
      "--repeat",
      repeat,
      "--repeat-interval",
      "100",
      "--set",
      `dummy_sleep_ms=${sleepMs}`,
      "--json",
      "--report",
      report,
    ],
  ].flat();

async function startWorkers(cluster: string): Promise<Proc[]> {
  const ws = ["w1", "w2", "w3"].map((n) => start(["worker"], env(cluster, n)));
  await until(
    () => ws.every((w) => /joined cluster/.test(w.err())),
    90_000,
    () => `three workers joined: ${ws.map((w) => w.err()).join("\n")}`,
  );
  return ws;
}

function withStore<T>(cluster: string, fn: (s: RunStore) => T): T {
  const s = RunStore.open(join(scratch.dir, `${cluster}-m`, RUN_STORE_FILE), { readonly: true });
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

describe("the time series of a distributed run", () => {
  it("stores every worker's intervals, and the merged counts equal their sum and the run's total", async () => {
    const cluster = `rs${process.pid}a`;
    const ws = await startWorkers(cluster);
    const report = join(scratch.dir, "dist.html");
    const run = start([...distRun("8", 100, report), "--threshold", "dummy.runs.count==240"], env(cluster, "m"));
    const code = await Promise.race([
      run.exit,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`run did not end\n${run.err()}`)), 150_000)),
    ]);
    expect(code, `${run.err()}\n${ws.map((w) => w.err()).join("\n")}`).toBe(0);
    const s = JSON.parse(run.out()) as { run_id: string; verdict: string; metrics: Record<string, { count: number }> };
    expect(s.verdict).toBe("passed");
    expect(s.metrics["dummy.runs"]!.count).toBe(240);
    withStore(cluster, (store) => {
      const raw = store.intervals(s.run_id);
      expect(new Set(raw.map((i) => i.node))).toEqual(new Set(["w1", "w2", "w3"]));
      const res = readRunResults(store, s.run_id);
      const perNodeRuns = sum(raw.map((i) => i.c["dummy.runs"] ?? 0));
      const mergedRuns = sum(res.intervals.map((m) => m.counters["dummy.runs"] ?? 0));
      expect(perNodeRuns).toBe(240);
      expect(mergedRuns).toBe(240);
      expect(res.table["dummy.runs"]).toMatchObject({ count: 240 });
      expect(sum(res.intervals.map((m) => m.counters["users.started"] ?? 0))).toBe(30);
      // each worker's share adds up to the whole
      expect(sum(Object.values(res.perNode).map((n) => n.counters["dummy.runs"] ?? 0))).toBe(240);
      expect(res.thresholds).toMatchObject([{ expr: "dummy.runs.count==240", ok: true, actual: 240 }]);
    });
    const html = readFileSync(report, "utf8");
    for (const n of ["w1", "w2", "w3"]) expect(html).toContain(`<td class="name">${n}</td>`);
  }, 240_000);

  it("keeps a killed worker's intervals up to its death, and the report marks it down", async () => {
    const cluster = `rs${process.pid}b`;
    const ws = await startWorkers(cluster);
    const report = join(scratch.dir, "killed.html");
    const run = start(distRun("infinity", 50, report), env(cluster, "m"));
    const runId = () => withStore(cluster, (st) => st.listRuns(1)[0]!.id);
    // w3 has published a few intervals: kill it without a goodbye
    await until(
      () => withStore(cluster, (st) => st.intervals(runId()).filter((i) => i.node === "w3").length >= 3),
      120_000,
      () => `w3's intervals in the store\n${run.err()}`,
    );
    ws[2]!.p.kill("SIGKILL");
    await ws[2]!.exit;
    await until(
      () => withStore(cluster, (st) => st.events(runId()).some((e) => e.kind === "node_down" && e.data.node === "w3")),
      60_000,
      () => `w3 down in the store\n${run.err()}`,
    );
    // the others keep reporting after w3's death
    const downAt = withStore(cluster, (st) => st.events(runId()).find((e) => e.kind === "node_down")!.t);
    await until(
      () => withStore(cluster, (st) => st.intervals(runId()).some((i) => i.node === "w1" && i.t > downAt)),
      30_000,
      () => "w1's intervals after w3's death",
    );
    run.p.kill("SIGINT");
    const code = await Promise.race([
      run.exit,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`run did not end\n${run.err()}`)), 60_000)),
    ]);
    expect(code, run.err()).toBe(130);
    const s = JSON.parse(run.out()) as {
      run_id: string;
      nodes: Record<string, { started: number; lost?: boolean; redealt_to?: Record<string, number> }>;
    };
    // every node that took part is in the summary: w3 lost, with what it had started and where its users went
    expect(Object.keys(s.nodes).sort()).toEqual(["w1", "w2", "w3"]);
    expect(s.nodes.w3).toMatchObject({ lost: true });
    expect(s.nodes.w3!.started).toBeGreaterThan(0);
    expect(Object.keys(s.nodes.w3!.redealt_to ?? {}).every((n) => n === "w1" || n === "w2")).toBe(true);
    withStore(cluster, (store) => {
      const raw = store.intervals(s.run_id);
      const w3 = raw.filter((i) => i.node === "w3");
      expect(w3.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...w3.map((i) => i.t))).toBeLessThan(downAt);
      expect(Math.max(...raw.filter((i) => i.node === "w1").map((i) => i.t))).toBeGreaterThan(downAt);
      const res = readRunResults(store, s.run_id);
      // w3's runs up to its death count in the merged series
      expect(res.perNode.w3!.counters["dummy.runs"]).toBe(sum(w3.map((i) => i.c["dummy.runs"] ?? 0)));
      expect(sum(res.intervals.map((m) => m.counters["dummy.runs"] ?? 0))).toBe(
        sum(raw.map((i) => i.c["dummy.runs"] ?? 0)),
      );
    });
    const html = readFileSync(report, "utf8");
    expect(html).toMatch(/<td class="name">w3<\/td>.*stopped reporting before the end; down at/);
  }, 300_000);

  it("a run started through a console's REST API on the cluster is recorded from the workers' intervals", async () => {
    const cluster = `rs${process.pid}c`;
    await startWorkers(cluster);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const con = spawn(AMOC, ["console"], {
      env: { ...env(cluster, "m"), AMOC_API_PORT: String(port), AMOC_API_TOKEN: API_TOKEN },
      stdio: ["pipe", "ignore", "pipe"],
    });
    procs.push(con);
    let cerr = "";
    con.stderr!.on("data", (d: Buffer) => (cerr += d.toString()));
    const poll = async (cond: () => Promise<boolean>, what: string) => {
      const end = Date.now() + 60_000;
      while (!(await cond().catch(() => false))) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${cerr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await poll(async () => (await fetch(`${url}/health`)).ok, "the console's REST API");
    const patch = (path: string, body: unknown) =>
      fetch(`${url}${path}`, {
        method: "PATCH",
        headers: { "content-type": "application/json", ...BEARER },
        body: JSON.stringify(body),
      });
    const start = await patch("/execution/start", {
      scenario: "dummy",
      users: 6,
      settings: { interarrival: 0, repeat_num: "infinity", repeat_interval: 50 },
      thresholds: ["dummy.runs.count>0"],
    });
    expect(start.status, `${await start.clone().text()}\n${cerr}`).toBe(200);
    await poll(async () => {
      const st = (await (await fetch(`${url}/status`, { headers: BEARER })).json()) as {
        last_interval: { rates: Record<string, number> } | null;
      };
      return (st.last_interval?.rates["dummy.runs"] ?? 0) > 0;
    }, "a last interval with runs in GET /status");
    expect((await patch("/execution/stop", {})).status).toBe(200);
    const e = env(cluster, "m");
    const listed = JSON.parse((await amoc(["runs", "--json"], { env: e })).stdout) as Array<{
      id: string;
      scenario: string;
      verdict: string;
      nodes: string[];
    }>;
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ scenario: "dummy", verdict: "passed" });
    withStore(cluster, (store) => {
      const raw = store.intervals(listed[0]!.id);
      expect(new Set(raw.map((i) => i.node))).toEqual(new Set(["w1", "w2", "w3"]));
      const res = readRunResults(store, listed[0]!.id);
      expect(sum(res.intervals.map((m) => m.counters["dummy.runs"] ?? 0))).toBe(
        sum(raw.map((i) => i.c["dummy.runs"] ?? 0)),
      );
      expect(res.thresholds).toMatchObject([{ expr: "dummy.runs.count>0", ok: true }]);
    });
    con.stdin!.end();
  }, 240_000);
});
