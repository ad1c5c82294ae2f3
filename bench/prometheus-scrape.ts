/**
 * What a Prometheus scrape costs a node holding users: one local node (this process) with AMOC_PROMETHEUS_PORT set,
 * holding USERS users of a scenario written by the benchmark (every user records the metrics of a chat user, a
 * message TTD timing and sent/received counters, every TICK_MS, spread over the period; no XMPP), scraped SCRAPES
 * times by curl, one scrape every GAP_MS. Measures each scrape's time and size at the client, and the node's side
 * over equal windows with and without scrapes: the CPU a scrape costs the node and the longest event-loop stall.
 *
 * Run: node --import tsx bench/prometheus-scrape.ts [users=30000] [scrapes=30] [tick_ms=5000]
 */
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { createNode } from "../src/main.js";
import { freePort } from "../test/helpers/nats-cluster.js";
import { cpuWindow, sleep } from "./lib/node-window.js";
import { loadAverage, recordFigures, type BenchFigure } from "./lib/results.js";

const USERS = Number(process.argv[2] ?? 30_000);
const SCRAPES = Number(process.argv[3] ?? 30);
const TICK_MS = Number(process.argv[4] ?? 5000);
const GAP_MS = 500;
for (const [k, v] of Object.entries({ USERS, SCRAPES, TICK_MS }))
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${k} must be a positive integer, not ${v}`);
const DIR = resolve(`.run/bench/prometheus-${process.pid}`);
mkdirSync(DIR, { recursive: true });
writeFileSync(
  `${DIR}/bench_chat_metrics.ts`,
  `import type { UserContext } from "amoc-ts";
// the metrics of a chat user every ${TICK_MS} ms, the first at a point of the period set by its ID
export async function start(id: number, _state: unknown, ctx: UserContext): Promise<void> {
  await ctx.sleep((id * 7919) % ${TICK_MS});
  while (!ctx.stopping) {
    ctx.metrics.count("xmpp.messages_sent");
    ctx.metrics.count("xmpp.messages_received");
    ctx.metrics.timing("xmpp.message_ttd", (id % 97) + 0.5);
    await ctx.sleep(${TICK_MS});
  }
}
`,
);
const port = await freePort();
const loadBefore = loadAverage();
const node = createNode({
  env: {
    ...process.env,
    AMOC_LOG_LEVEL: "warn",
    AMOC_PROMETHEUS_PORT: String(port),
    AMOC_SCENARIOS_DIR: DIR,
  },
});
const c = node.controller;
const run = promisify(execFile);
const url = `http://127.0.0.1:${port}/metrics`;

const out: Record<string, any> = { bench: "prometheus-scrape", users: USERS, scrapes: SCRAPES };
try {
  await c.do("bench_chat_metrics", 1, USERS, { interarrival: 0, repeat_num: 1 });
  while (c.status().users.running < USERS) await sleep(50);
  await sleep(TICK_MS + 2000); // every user has recorded: the histograms have their buckets
  // the scrapes come from one shell child (curl in a loop), and the window without scrapes spawns one child too, so
  // the cost of spawning from this process cancels out
  let report = "";
  const loop = `for i in $(seq ${SCRAPES}); do curl -sS -o /dev/null -w '%{time_total} %{size_download}\\n' ${url}; sleep ${GAP_MS / 1000}; done`;
  const scrape = async () => {
    report = (await run("bash", ["-c", loop])).stdout;
  };
  const span = SCRAPES * (GAP_MS + 50);
  const quiet = await cpuWindow(span, async () => void (await run("bash", ["-c", `sleep ${span / 1000}`])));
  const scraped = await cpuWindow(span, scrape);
  const rows = report
    .trim()
    .split("\n")
    .map((l) => l.split(" ").map(Number));
  const times = rows.map((r) => (r[0] as number) * 1000);
  const bytes = rows[rows.length - 1]?.[1] ?? 0;
  times.sort((a, b) => a - b);
  out.scrape_ms = {
    p50: +(times[Math.floor(times.length / 2)] as number).toFixed(1),
    max: +(times[times.length - 1] as number).toFixed(1),
  };
  out.bytes = bytes;
  // the window with scrapes may last longer than the quiet one: the quiet CPU is scaled to its length
  const base = (quiet.cpuMs * scraped.elapsedMs) / quiet.elapsedMs;
  out.cpu_per_scrape_ms = +((scraped.cpuMs - base) / SCRAPES).toFixed(2);
  out.stall_ms = { quiet: +quiet.stallMs.toFixed(1), scraped: +scraped.stallMs.toFixed(1) };
  // the node's own time to render a scrape (what a scrape holds its event loop for, HTTP aside), timed in the node
  const render: number[] = [];
  for (let i = 0; i < SCRAPES; i++) {
    const t = performance.now();
    await node.prometheus!.metrics();
    render.push(performance.now() - t);
    await sleep(GAP_MS / 5);
  }
  render.sort((a, b) => a - b);
  out.render_ms = {
    p50: +(render[Math.floor(render.length / 2)] as number).toFixed(2),
    max: +(render[render.length - 1] as number).toFixed(2),
  };
  const series = (await (await fetch(url)).text()).split("\n").filter((l) => l && !l.startsWith("#")).length;
  out.series = series;
  if (c.status().users.running !== USERS) throw new Error(`${c.status().users.running} running, expected ${USERS}`);
  await c.stop();
} catch (e) {
  out.error = (e as Error).message;
} finally {
  process.stdout.write(JSON.stringify(out, null, 1) + "\n");
  if (!out.error) record();
  await node.close();
  rmSync(DIR, { recursive: true, force: true });
  process.exit(out.error ? 1 : 0);
}

function record(): void {
  const command = `node --import tsx bench/prometheus-scrape.ts ${USERS} ${SCRAPES} ${TICK_MS}`;
  const setup = `one local node holding ${USERS.toLocaleString("en-US")} users that record a chat user's metrics every ${TICK_MS / 1000} s (no XMPP), AMOC_PROMETHEUS_PORT set`;
  const k = `prometheus-scrape.${USERS}`;
  const figs: BenchFigure[] = [
    {
      figure: `${k}.time`,
      value: out.scrape_ms.p50,
      unit: "ms (p50)",
      command,
      what: `GET /metrics at the client (curl), ${SCRAPES} scrapes ${GAP_MS} ms apart, max ${out.scrape_ms.max} ms; ${setup}`,
    },
    {
      figure: `${k}.bytes`,
      value: out.bytes,
      unit: "B",
      command,
      what: `size of one scrape (${out.series} series: no user IDs in labels, so it does not grow with users)`,
    },
    {
      figure: `${k}.render`,
      value: out.render_ms.p50,
      unit: "ms (p50)",
      command,
      what: `the node's event-loop time to render one scrape (its prom-client registry, timed in the node ${SCRAPES} times, max ${out.render_ms.max} ms; the node's own cost, HTTP aside)`,
    },
    {
      figure: `${k}.cpu`,
      value: out.cpu_per_scrape_ms,
      unit: "ms CPU per scrape",
      command,
      what: "the node's CPU per scrape: its CPU in a window with scrapes minus an equal window without, / scrapes (below the noise of the users' own work when negative)",
    },
    {
      figure: `${k}.stall`,
      value: out.stall_ms.scraped,
      unit: "ms",
      command,
      what: `longest event-loop stall of the node during the scrapes (${out.stall_ms.quiet} ms in the window without)`,
    },
  ];
  recordFigures(figs, loadBefore);
}
