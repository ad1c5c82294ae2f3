/**
 * Benchmark of distributed mode: 4 `bin/amoc worker` processes on one NATS (AMOC_NATS_URL, default 127.0.0.1:4222).
 *  - do() of 1,000,000 idle users: time until every worker acknowledged (prepare + start), and until all run
 *  - status() round trip (median of 20)
 *  - start-time error across nodes against the plan at 1,000 users/s (interarrival 1 ms): mean and p99
 *  - re-deal after `kill -9` of a worker: detection, re-deal started, users running again
 * Run: node --import tsx bench/cluster.ts [users]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { joinCluster } from "../src/cluster/cluster-node.js";
import { createNode } from "../src/main.js";

const USERS = Number(process.argv[2] ?? 1_000_000);
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

  // 4. re-deal after kill -9
  const t0 = Date.now();
  let downMs = 0;
  let redealMs = 0;
  h.membership.onDown(() => (downMs ||= Date.now() - t0));
  node.telemetry.on("run.event", (e) => {
    if (e.kind === "node_down" && e.data.redealt) redealMs ||= Date.now() - t0;
  });
  workers.get("w4")!.kill("SIGKILL");
  await until(async () => (await status()).users.running === n, 30_000);
  out.redeal = { users: n / 4, detected_ms: downMs, redeal_started_ms: redealMs, restored_ms: Date.now() - t0 };
  await m.stop();
} finally {
  for (const p of workers.values()) p.kill("SIGKILL");
  await node.close();
}
console.log(JSON.stringify(out));
process.exit(0);
