/**
 * What the dashboard's live stream costs on a cluster: 3 `bin/amoc worker` processes on one private nats-server, each
 * holding USERS_PER_WORKER users of a scenario the benchmark uploads (every user records one timing and one counter
 * every TICK_MS, spread over the period, so the intervals carry histograms as a chat run's do, without XMPP), and the
 * REST server (with the dashboard) and the master in this process. WINDOW_S seconds with no page open, then WINDOW_S
 * with one `GET /dashboard/stream` open: this process's CPU and the workers' CPU (from /proc) in each window, the
 * bytes and frames the stream delivered and the gaps between frames.
 *
 * Run: node --import tsx bench/dashboard-stream.ts [users_per_worker=30000] [window_s=30] [tick_ms=5000]
 */
import { sleep } from "./lib/node-window.js";
import { startBenchCluster } from "./lib/rest-cluster.js";
import { loadAverage, recordFigures, type BenchFigure } from "./lib/results.js";

const PER_WORKER = Number(process.argv[2] ?? 30_000);
const WINDOW_S = Number(process.argv[3] ?? 30);
const TICK_MS = Number(process.argv[4] ?? 5000);
for (const [k, v] of Object.entries({ PER_WORKER, WINDOW_S, TICK_MS }))
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${k} must be a positive integer, not ${v}`);
const WORKERS = ["d1", "d2", "d3"];
const TOTAL = PER_WORKER * WORKERS.length;

const TICKER = `import type { UserContext } from "amoc-ts";
// every user: one timing and one counter every ${TICK_MS} ms, the first at a point of the period set by its ID
export async function start(id: number, _state: unknown, ctx: UserContext): Promise<void> {
  await ctx.sleep((id * 7919) % ${TICK_MS});
  while (!ctx.stopping) {
    ctx.metrics.timing("bench.tick", (id % 97) + 1);
    ctx.metrics.count("bench.ticks");
    await ctx.sleep(${TICK_MS});
  }
}
`;

const cluster = await startBenchCluster("dashboard", WORKERS, "bench-dash");
const { call } = cluster;
const until = (cond: () => Promise<boolean>, timeoutMs: number, what: string) =>
  cluster.until(cond, timeoutMs, what, 200);

/** CPU ms per second of this process and of the workers over `s` seconds, while `during` runs. */
async function window(s: number): Promise<{ self: number; workers: number }> {
  const c0 = process.cpuUsage();
  const w0 = cluster.workerTicks();
  const t0 = performance.now();
  await sleep(s * 1000);
  const secs = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return {
    self: +((c.user + c.system) / 1000 / secs).toFixed(1),
    workers: +((((cluster.workerTicks() - w0) * 1000) / cluster.ticksPerSecond / secs) as number).toFixed(1),
  };
}

const loadBefore = loadAverage();
const out: Record<string, any> = { bench: "dashboard-stream", workers: WORKERS.length, per_worker: PER_WORKER };
try {
  await cluster.waitForWorkers();
  await call("PUT", "/scenarios/upload?name=bench_ticker", TICKER);
  await call("PATCH", "/execution/start", {
    scenario: "bench_ticker",
    users: TOTAL,
    settings: { interarrival: 0 },
  });
  await until(async () => (await call("GET", "/status")).users.running === TOTAL, 300_000, `${TOTAL} running`);
  await sleep(TICK_MS + 2000); // every user has ticked: the intervals are full

  out.without = await window(WINDOW_S);
  // one page open: read the stream as a browser would, counting bytes, frames and the gaps between frames
  const ac = new AbortController();
  const res = await fetch(`${cluster.url}/dashboard/stream`, { headers: cluster.headers, signal: ac.signal });
  if (!res.ok || !res.body) throw new Error(`GET /dashboard/stream: ${res.status}`);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let counting = false;
  let bytes = 0;
  let frames = 0;
  let historyBytes = 0;
  const arrivals: number[] = [];
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done || !value) return;
      const text = dec.decode(value, { stream: true });
      if (!counting) {
        historyBytes += value.byteLength;
        continue;
      }
      bytes += value.byteLength;
      const n = text.split("event: frame\n").length - 1;
      for (let i = 0; i < n; i++) arrivals.push(performance.now());
      frames += n;
    }
  })();
  await sleep(3000); // the history and the first frames; the feed's sampler is running
  counting = true;
  out.with = await window(WINDOW_S);
  counting = false;
  ac.abort();
  await reading;
  const gaps = arrivals.slice(1).map((t, i) => t - (arrivals[i] as number));
  gaps.sort((a, b) => a - b);
  out.stream = {
    bytes_per_s: Math.round(bytes / WINDOW_S),
    frames,
    frame_bytes: frames ? Math.round(bytes / frames) : 0,
    history_bytes: historyBytes,
    gap_max_ms: gaps.length ? Math.round(gaps[gaps.length - 1] as number) : null,
  };
  const s = await call("GET", "/status");
  if (s.users.running !== TOTAL) throw new Error(`status shows ${s.users.running} running, expected ${TOTAL}`);
  await call("PATCH", "/execution/stop", {});
} catch (e) {
  out.error = (e as Error).message;
} finally {
  process.stdout.write(JSON.stringify(out, null, 1) + "\n");
  if (!out.error) record();
  await cluster.close();
  process.exit(out.error ? 1 : 0);
}

function record(): void {
  const command = `node --import tsx bench/dashboard-stream.ts ${PER_WORKER} ${WINDOW_S} ${TICK_MS}`;
  const setup = `${WORKERS.length} worker processes x ${PER_WORKER.toLocaleString("en-US")} users (one timing + one counter per user every ${TICK_MS / 1000} s, no XMPP) on one nats-server, REST server and master in one process`;
  const figs: BenchFigure[] = [
    {
      figure: `dashboard-stream.${TOTAL}.serving_cpu`,
      value: +(out.with.self - out.without.self).toFixed(1),
      unit: "ms CPU per s",
      command,
      what: `CPU the open stream adds to the process serving the dashboard (${out.without.self} ms/s without a page, ${out.with.self} with one), ${WINDOW_S} s each; ${setup}: the serving node's cost`,
    },
    {
      figure: `dashboard-stream.${TOTAL}.workers_cpu`,
      value: +(out.with.workers - out.without.workers).toFixed(1),
      unit: "ms CPU per s",
      command,
      what: `CPU the open stream adds to the 3 workers together (${out.without.workers} ms/s without, ${out.with.workers} with: they answer status and nodes each second)`,
    },
    {
      figure: `dashboard-stream.${TOTAL}.bytes`,
      value: out.stream.bytes_per_s,
      unit: "B/s",
      command,
      what: `stream bytes per second to one page (${out.stream.frames} frames of ${out.stream.frame_bytes} B in ${WINDOW_S} s; ${out.stream.history_bytes} B of history on opening)`,
    },
    {
      figure: `dashboard-stream.${TOTAL}.gap_max`,
      value: out.stream.gap_max_ms ?? "none",
      unit: "ms",
      command,
      what: "longest gap between two frames at the page (one frame per second is the plan)",
    },
  ];
  recordFigures(figs, loadBefore);
}
