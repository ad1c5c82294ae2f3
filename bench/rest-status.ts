/**
 * Benchmark of the REST API in front of a cluster: 4 `bin/amoc worker` processes on a private nats-server, the REST
 * server in this process (dist mode, as a worker's or console's would be).
 *  - upload -> all 4 nodes running it: PUT /scenarios/upload answered, then PATCH /execution/start of 4 users (one
 *    per worker): time until every worker runs its user of the new version (each fetched it from the bucket by hash)
 *  - GET /status latency (sequential requests, p50/p99/max) with 4 workers x USERS_PER_WORKER idle users, and the
 *    same status() through the Node API without HTTP (the difference is what REST adds)
 * Run: node --import tsx bench/rest-status.ts [users_per_worker=250000] [status_requests=200]
 */
import { startBenchCluster } from "./lib/rest-cluster.js";
import { loadAverage, recordFigures, type BenchFigure } from "./lib/results.js";

const PER_WORKER = Number(process.argv[2] ?? 250_000);
const REQUESTS = Number(process.argv[3] ?? 200);
const WORKERS = ["w1", "w2", "w3", "w4"];
const cluster = await startBenchCluster("rest", WORKERS, "bench-api");
const { call, until, dist } = cluster;

const pct = (xs: number[], p: number) => +(xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] as number).toFixed(1);

const HOLD = (tag: string) => `import type { UserContext } from "amoc-ts";
// ${tag}
export function start(_id: number, _state: unknown, ctx: UserContext): Promise<void> {
  return ctx.stopped();
}
`;

const loadBefore = loadAverage();
/** The figures of a complete run, into the results file. */
function record(): void {
  const command = `node --import tsx bench/rest-status.ts ${PER_WORKER} ${REQUESTS}`;
  const users = `${WORKERS.length} worker processes x ${PER_WORKER.toLocaleString("en-US")} idle users on one nats-server`;
  const st = out.status_ms as { p50: number; p99: number; max: number };
  const api = out.node_api_status_ms as { p50: number; p99: number };
  const figs: BenchFigure[] = [
    ["p50", st.p50],
    ["p99", st.p99],
    ["max", st.max],
  ].map(([k, v]) => ({
    figure: `rest-status.${PER_WORKER}.status_${k}`,
    value: v as number,
    unit: "ms",
    command,
    what: `GET /status ${k}, ${REQUESTS} requests in a row, ${users} (the cluster round trip + REST)`,
  }));
  figs.push({
    figure: `rest-status.${PER_WORKER}.node_api_p99`,
    value: api.p99,
    unit: "ms",
    command,
    what: `the same status through the Node API without HTTP, p99 (p50 ${api.p50} ms): REST adds the difference`,
  });
  const up = out.upload_c_ms as { upload: number; accepted_to_all_running: number } | undefined;
  if (up)
    figs.push({
      figure: "rest-status.upload_to_running",
      value: up.accepted_to_all_running,
      unit: "ms",
      command,
      what: `PUT /scenarios/upload accepted -> all ${WORKERS.length} workers running a user of the new version (third upload; answered in ${up.upload} ms)`,
    });
  recordFigures(figs, loadBefore);
}

const out: Record<string, unknown> = { bench: "rest-status", workers: WORKERS.length, users_per_worker: PER_WORKER };
try {
  await cluster.waitForWorkers();

  // 1. upload -> every node runs the new version (three uploads: first, unchanged cache, re-upload)
  for (const tag of ["a", "b", "c"]) {
    const t0 = performance.now();
    const up = await call("PUT", "/scenarios/upload?name=bench_hold", HOLD(`version ${tag} ${Date.now()}`));
    const accepted = performance.now();
    await call("PATCH", "/execution/start", {
      scenario: "bench_hold",
      users: WORKERS.length,
      settings: { interarrival: 0 },
    });
    await until(
      async () => {
        const s = await call("GET", "/status");
        return s.run?.version === up.version && WORKERS.every((w) => s.nodes[w]?.result?.users?.running === 1);
      },
      30_000,
      "every worker running the upload",
    );
    out[`upload_${tag}_ms`] = {
      upload: +(accepted - t0).toFixed(1),
      accepted_to_all_running: +(performance.now() - accepted).toFixed(1),
    };
    await call("PATCH", "/execution/stop", {});
  }

  // 2. GET /status with 4 x PER_WORKER idle users
  const total = PER_WORKER * WORKERS.length;
  let t = performance.now();
  await call("PATCH", "/execution/start", { scenario: "idle", users: total, settings: { interarrival: 0 } });
  await until(async () => (await call("GET", "/status")).users.running === total, 300_000, `${total} running`);
  out.all_running_s = +((performance.now() - t) / 1000).toFixed(1);
  const lat: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    t = performance.now();
    const s = await call("GET", "/status");
    lat.push(performance.now() - t);
    if (s.users.running !== total) throw new Error(`status shows ${s.users.running} running, expected ${total}`);
  }
  lat.sort((a, b) => a - b);
  out.status_ms = { requests: REQUESTS, p50: pct(lat, 0.5), p99: pct(lat, 0.99), max: pct(lat, 1) };
  // the same status through the Node API, without HTTP: what the REST layer adds is the difference
  const direct: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    t = performance.now();
    await dist.status();
    direct.push(performance.now() - t);
  }
  direct.sort((a, b) => a - b);
  out.node_api_status_ms = { requests: REQUESTS, p50: pct(direct, 0.5), p99: pct(direct, 0.99), max: pct(direct, 1) };
  await call("PATCH", "/execution/stop", {});
} catch (e) {
  out.error = (e as Error).message;
} finally {
  process.stdout.write(JSON.stringify(out, null, 1) + "\n");
  if (!out.error) record();
  await cluster.close();
  process.exit(out.error ? 1 : 0);
}
