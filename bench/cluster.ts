/**
 * Benchmark of distributed mode: 4 `bin/amoc worker` processes on one NATS (AMOC_NATS_URL, default 127.0.0.1:4222).
 *  - do() of 1,000,000 idle users: time until every worker acknowledged (prepare + start), and until all run
 *  - status() round trip (median of 20)
 *  - start-time error across nodes against the plan at 1,000 users/s (interarrival 1 ms): mean and p99
 *  - re-deal after `kill -9` of a worker: detection, the first re-dealt user running on a survivor, all running again
 * Fails (exit 1) when any worker is judged down before the kill: the books of a million users must not cost a node.
 * Run: node --import tsx bench/cluster.ts [users]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { joinCluster } from "../src/cluster/cluster-node.js";
import { createNode } from "../src/main.js";
import { loadAverage, recordFigures } from "./lib/results.js";

const USERS = Number(process.argv[2] ?? 1_000_000);
const loadBefore = loadAverage();
const CLUSTER = `bench${process.pid}`;
const AMOC = new URL("../bin/amoc", import.meta.url).pathname;
const env = (name: string): NodeJS.ProcessEnv => ({
  ...process.env,
  AMOC_NODE_NAME: name,
  AMOC_CLUSTER_NAME: CLUSTER,
  AMOC_LOG_LEVEL: "error",
});
const workers = new Map<string, ChildProcess>();
for (const w of ["w1", "w2", "w3", "w4"]) workers.set(w, spawn(AMOC, ["worker"], { env: env(w), stdio: "ignore" }));
const node = createNode({ env: env("bench-master") });
const h = await joinCluster(node, "master");
const m = h.master!;
type Users = { running: number; pending: number };
const status = async () =>
  (await m.status()) as {
    users: Users;
    nodes: Record<
      string,
      { ok: boolean; result?: { start_lag_ms: { count: number; mean: number; p99: number; max: number } } }
    >;
  };
async function until(cond: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("bench wait timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
const out: Record<string, unknown> = { bench: "cluster", workers: 4 };
/** Workers judged down, and when (ms since the epoch): none may be before the kill of step 4. */
const downs: Array<{ at: number }> = [];
h.membership.onDown(() => downs.push({ at: Date.now() }));
try {
  await m.waitForWorkers(4, 30_000);

  // 1. a million idle users: acknowledgement, then all running
  let t = performance.now();
  await m.do("idle", 1, USERS, { settings: { interarrival: 0 } });
  out.do_users = USERS;
  out.do_ack_ms = Math.round(performance.now() - t);
  t = performance.now();
  const addT = performance.now();
  await m.add(4);
  out.add_ack_ms = Math.round(performance.now() - addT);
  await until(async () => (await status()).users.running === USERS + 4, 120_000);
  out.all_running_ms = Math.round(performance.now() - t);

  // 2. status round trip
  const rtts: number[] = [];
  for (let i = 0; i < 20; i++) {
    const s = performance.now();
    await m.status();
    rtts.push(performance.now() - s);
  }
  rtts.sort((a, b) => a - b);
  out.status_rtt_ms = { median: +rtts[10]!.toFixed(1), max: +rtts[19]!.toFixed(1) };
  await m.stop();

  // 3. start-time error at 1000 users/s across the 4 nodes
  const n = 10_000;
  await m.do("idle", 1, n, { settings: { interarrival: 1 } });
  await until(async () => (await status()).users.running === n, 60_000);
  const st = await status();
  let count = 0;
  let sum = 0;
  let p99 = 0;
  let max = 0;
  for (const r of Object.values(st.nodes)) {
    const l = r.result?.start_lag_ms;
    if (!l) continue;
    count += l.count;
    sum += l.mean * l.count;
    p99 = Math.max(p99, l.p99);
    max = Math.max(max, l.max);
  }
  out.start_error_ms = { users: count, rate_per_s: 1000, mean: +(sum / count).toFixed(3), p99_worst_node: p99, max };

  out.workers_judged_down_before_kill = downs.length;
  if (downs.length) throw new Error(`${downs.length} worker(s) judged down while no worker was killed`);

  // 4. re-deal after kill -9: the re-deal has started when a survivor runs more than its own share (the first
  // re-dealt user running), polled by status() every 20 ms; the master's acknowledgement is not a start
  const t0 = Date.now();
  let ackMs = 0;
  node.telemetry.on("run.event", (e) => {
    if (e.kind === "node_down" && e.data.redealt) ackMs ||= Date.now() - t0;
  });
  const survivors = ["w1", "w2", "w3"];
  const own = (await status()).nodes;
  const before = Object.fromEntries(
    survivors.map((w) => [w, (own[w] as { result?: { users?: { running: number } } }).result?.users?.running ?? 0]),
  );
  workers.get("w4")!.kill("SIGKILL");
  let startedMs = 0;
  await until(async () => {
    const st = await status();
    if (!startedMs) {
      const more = survivors.some(
        (w) => ((st.nodes[w] as { result?: { users?: { running: number } } }).result?.users?.running ?? 0) > before[w]!,
      );
      if (more) startedMs = Date.now() - t0;
    }
    return st.users.running === n;
  }, 30_000);
  const detectedMs = downs[0] ? downs[0].at - t0 : 0;
  out.redeal = {
    users: n / 4,
    detected_ms: detectedMs,
    redeal_ack_ms: ackMs,
    first_redealt_running_ms: startedMs,
    restored_ms: Date.now() - t0,
  };
  await m.stop();
} finally {
  for (const p of workers.values()) p.kill("SIGKILL");
  await node.close();
}
console.log(JSON.stringify(out));
{
  const command = `node --import tsx bench/cluster.ts ${USERS}`;
  const on = "4 bin/amoc worker processes + a master on one nats-server, all on this machine";
  const u = USERS.toLocaleString("en-US");
  const st = out.status_rtt_ms as { median: number; max: number };
  const se = out.start_error_ms as { p99_worst_node: number; mean: number };
  const rd = out.redeal as Record<string, number>;
  recordFigures(
    [
      {
        figure: "cluster.do_ack",
        value: out.do_ack_ms as number,
        unit: "ms",
        command,
        what: `do() of ${u} idle users: every worker acknowledged (${on})`,
      },
      {
        figure: "cluster.all_running",
        value: out.all_running_ms as number,
        unit: "ms",
        command,
        what: `${u} users running on the 4 workers, after the do() returned`,
      },
      {
        figure: "cluster.judged_down",
        value: 0,
        unit: "workers",
        command,
        what: `workers judged down while ${u} users were dealt, started, stopped (asserted: the run fails otherwise)`,
      },
      {
        figure: "cluster.status_rtt",
        value: st.median,
        unit: "ms (median)",
        command,
        what: `status() round trip, 4 workers holding ${u} users (max ${st.max} ms)`,
      },
      {
        figure: "cluster.start_error_p99",
        value: se.p99_worst_node,
        unit: "ms",
        command,
        what: `start-time error at 1,000 users/s, 10,000 users over 4 workers: p99 of the worst node (mean ${se.mean} ms; 5 processes share the cores)`,
      },
      {
        figure: "cluster.redeal_detected",
        value: rd.detected_ms!,
        unit: "ms",
        command,
        what: `kill -9 of a worker holding ${rd.users} users: judged down after`,
      },
      {
        figure: "cluster.redeal_started",
        value: rd.first_redealt_running_ms!,
        unit: "ms",
        command,
        what: "same kill: the first re-dealt user running on a survivor (status polled every 20 ms; not the master's acknowledgement)",
      },
      {
        figure: "cluster.redeal_restored",
        value: rd.restored_ms!,
        unit: "ms",
        command,
        what: "same kill: all users running again",
      },
    ],
    loadBefore,
  );
}
process.exit(0);
