/**
 * What a run's results time series costs while a real run produces them: one local node (this process) holding
 * USERS users of a scenario written by the benchmark, each recording what a chat user records per message it sends
 * and receives (`xmpp.messages_sent`, `xmpp.messages_received`, an `xmpp.message_ttd` timing) every TICK_MS, spread
 * over the period (no XMPP: the cost does not depend on the protocol). USERS / TICK_MS * 1000 messages per second.
 *
 * The same users run twice: first through the controller alone (no run recorded: nothing reads the measurements),
 * then as a run of the Node API (the run recorded: interval aggregation, merge, the run store in SQLite, threshold
 * reads). The difference of the node's CPU over equal windows is the results pipeline's cost; two windows of the
 * unrecorded users give the noise that difference is judged against. Then the stored intervals' size per second, and
 * the time and size of the HTML report of that recorded run.
 *
 * Run: node --import tsx bench/results-series.ts [users=10000] [window_s=30] [tick_ms=1000]
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createNode } from "../src/main.js";
import { nodeApis } from "../src/node/apis.js";
import { runStorePath } from "../src/node/data-dir.js";
import { encodeInterval } from "../src/results/interval.js";
import { RunStore } from "../src/results/store.js";
import { cpuWindow, sleep, waitFor } from "./lib/node-window.js";
import { loadAverage, recordFigures, type BenchFigure } from "./lib/results.js";

const USERS = Number(process.argv[2] ?? 10_000);
const WINDOW_S = Number(process.argv[3] ?? 30);
const TICK_MS = Number(process.argv[4] ?? 1000);
for (const [k, v] of Object.entries({ USERS, WINDOW_S, TICK_MS }))
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${k} must be a positive integer, not ${v}`);
const RATE = Math.round((USERS * 1000) / TICK_MS);
const DIR = mkdtempSync(join(tmpdir(), "amoc-results-series-"));
writeFileSync(
  `${DIR}/bench_chat_metrics.ts`,
  `import type { UserContext } from "amoc-ts";
// a chat user's measurements for one message every ${TICK_MS} ms, the first at a point of the period set by its ID
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
const loadBefore = loadAverage();
const env: NodeJS.ProcessEnv = {
  ...process.env,
  AMOC_LOG_LEVEL: "warn",
  AMOC_SCENARIOS_DIR: DIR,
  AMOC_DATA_DIR: join(DIR, "data"),
  AMOC_RESULTS_INTERVAL: "1000",
};
for (const k of [
  "AMOC_STATSD_HOST",
  "AMOC_API_PORT",
  "AMOC_PROMETHEUS_PORT",
  "AMOC_SUT_METRICS_URL",
  "AMOC_SUT_PROCESS",
])
  delete env[k];
const node = createNode({ env });
const api = nodeApis(node).local;
const c = node.controller;
const running = () => c.status().users.running;
const settings = { interarrival: 0, repeat_num: 1 };
const windowMs = WINDOW_S * 1000;

const out: Record<string, any> = { bench: "results-series", users: USERS, messages_per_s: RATE, window_s: WINDOW_S };
try {
  // 1. the users alone: measured by nobody
  await c.do("bench_chat_metrics", 1, USERS, settings);
  await waitFor(() => running() === USERS, 120_000, "the users to start");
  await sleep(TICK_MS + 2000);
  const bare = await cpuWindow(windowMs);
  // a second window of the same unrecorded users: how far two equal windows differ with nothing changed (the noise)
  const bare2 = await cpuWindow(windowMs);
  await c.stop();
  await waitFor(() => running() === 0, 60_000, "the users to stop");

  // 2. the same users as a recorded run
  const started = await api.start({ scenario: "bench_chat_metrics", users: USERS, settings });
  await waitFor(() => running() === USERS, 120_000, "the recorded run's users to start");
  await sleep(TICK_MS + 2000);
  const recorded = await cpuWindow(windowMs);
  await api.stop();
  const extra = recorded.cpuMs - (bare.cpuMs * recorded.elapsedMs) / bare.elapsedMs;
  out.pipeline_cores = +(extra / recorded.elapsedMs).toFixed(3);
  out.pipeline_us_per_message = +((extra * 1000) / ((RATE * recorded.elapsedMs) / 1000)).toFixed(2);
  out.cpu_ms = { bare: Math.round(bare.cpuMs), recorded: Math.round(recorded.cpuMs) };
  out.noise_cores = +Math.abs(bare2.cpuMs / bare2.elapsedMs - bare.cpuMs / bare.elapsedMs).toFixed(3);
  out.stall_ms = { bare: +bare.stallMs.toFixed(1), recorded: +recorded.stallMs.toFixed(1) };

  // 3. what the run left in the store, and its report
  const store = RunStore.open(runStorePath(node.settings.data_dir, env), { readonly: true });
  // as stored: each node's interval (encodeInterval) and the merged row (its data and histograms as JSON)
  const intervals = store.intervals(started.run_id);
  const merged = store.mergedRows(started.run_id);
  store.close();
  const bytes =
    intervals.reduce((n, i) => n + Buffer.byteLength(encodeInterval(i)), 0) +
    merged.reduce(
      (n, { h, ...rest }) => n + Buffer.byteLength(JSON.stringify(rest)) + Buffer.byteLength(JSON.stringify(h)),
      0,
    );
  out.intervals = intervals.length;
  out.bytes_per_interval = Math.round(bytes / Math.max(1, merged.length));
  out.store_file_bytes = statSync(runStorePath(node.settings.data_dir, env)).size;
  const t = performance.now();
  const html = await api.report(started.run_id);
  out.report_ms = Math.round(performance.now() - t);
  out.report_bytes = Buffer.byteLength(html);
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
  const command = `node --import tsx bench/results-series.ts ${USERS} ${WINDOW_S} ${TICK_MS}`;
  const setup = `one local node, ${USERS.toLocaleString("en-US")} users each recording a chat message's measurements (sent, received, TTD) every ${TICK_MS / 1000} s: ${RATE.toLocaleString("en-US")} messages/s, no XMPP`;
  const k = `results-series.${RATE}`;
  const figs: BenchFigure[] = [
    {
      figure: `${k}.cores`,
      value: out.pipeline_cores,
      unit: "cores",
      command,
      what: `CPU of the results pipeline (aggregation, merge, run store): the node's CPU over ${WINDOW_S} s with the run recorded minus the same users unrecorded (${out.cpu_ms.recorded} ms vs ${out.cpu_ms.bare} ms; two windows of the unrecorded users differed by ${out.noise_cores} cores, so a difference below that is noise); ${setup}`,
    },
    {
      figure: `${k}.per_message`,
      value: out.pipeline_us_per_message,
      unit: "µs CPU per message",
      command,
      what: "the same difference per message (3 measurements each)",
    },
    {
      figure: `${k}.stall`,
      value: out.stall_ms.recorded,
      unit: "ms",
      command,
      what: `longest event-loop stall with the run recorded (${out.stall_ms.bare} ms unrecorded)`,
    },
    {
      figure: `${k}.interval_bytes`,
      value: out.bytes_per_interval,
      unit: "B per 1 s interval",
      command,
      what: `what the run store keeps per second of this one-node run: the node's interval and the merged row with its histograms (${out.intervals} intervals; totals and events aside)`,
    },
    {
      figure: `${k}.report`,
      value: out.report_ms,
      unit: "ms",
      command,
      what: `building the HTML report of this recorded run (${out.intervals} intervals, about ${WINDOW_S + 5} s): ${Math.round(out.report_bytes / 1024)} KB, one self-contained file`,
    },
  ];
  recordFigures(figs, loadBefore);
}
