/**
 * Benchmark: N users at interarrival I ms; start-time error against the plan (actual start - planned instant),
 * mean, p99 and max. Run: node --import tsx bench/start-accuracy.ts 2000 5
 */
import { createNode } from "../src/main.js";
import { loadAverage, recordFigures } from "./lib/results.js";

const n = Number(process.argv[2] ?? 2000);
const ia = Number(process.argv[3] ?? 5);
const loadBefore = loadAverage();
const node = createNode({ env: { ...process.env, AMOC_LOG_LEVEL: "warn" } });
const lags: number[] = [];
node.telemetry.on("user.started", (e) => lags.push(e.lagMs));
await node.controller.do("idle", 1, n, { interarrival: ia, repeat_num: 1 });
while (lags.length < n) await new Promise((r) => setTimeout(r, 20));
lags.sort((a, b) => a - b);
const q = (p: number) => lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))] as number;
const mean = lags.reduce((a, b) => a + b, 0) / lags.length;
const out = {
  bench: "start-accuracy",
  users: n,
  interarrival_ms: ia,
  mean_ms: +mean.toFixed(3),
  p50_ms: +q(50).toFixed(3),
  p99_ms: +q(99).toFixed(3),
  max_ms: +(lags.at(-1) as number).toFixed(3),
};
console.log(JSON.stringify(out));
const command = `node --import tsx bench/start-accuracy.ts ${n} ${ia}`;
const what = (s: string) =>
  `start-time error ${s}, ${n.toLocaleString("en-US")} users at interarrival ${ia} ms: actual start - planned instant (one process's timers)`;
recordFigures(
  [
    { figure: "start-accuracy.mean", value: out.mean_ms, unit: "ms", command, what: what("mean") },
    { figure: "start-accuracy.p99", value: out.p99_ms, unit: "ms", command, what: what("p99") },
    { figure: "start-accuracy.max", value: out.max_ms, unit: "ms", command, what: what("max") },
  ],
  loadBefore,
);
await node.close();
process.exit(0);
