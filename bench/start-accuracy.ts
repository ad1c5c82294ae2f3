/**
 * Benchmark: N users at interarrival I ms; start-time error against the plan (actual start - planned instant),
 * mean, p99 and max. Run: node --import tsx bench/start-accuracy.ts 2000 5
 */
import { createNode } from "../src/main.js";

const n = Number(process.argv[2] ?? 2000);
const ia = Number(process.argv[3] ?? 5);
const node = createNode({ env: { ...process.env, AMOC_LOG_LEVEL: "warn" } });
const lags: number[] = [];
node.telemetry.on("user.started", (e) => lags.push(e.lagMs));
await node.controller.do("idle", 1, n, { interarrival: ia, repeat_num: 1 });
while (lags.length < n) await new Promise((r) => setTimeout(r, 20));
lags.sort((a, b) => a - b);
const q = (p: number) => lags[Math.min(lags.length - 1, Math.floor((p / 100) * lags.length))] as number;
const mean = lags.reduce((a, b) => a + b, 0) / lags.length;
console.log(
  JSON.stringify({
    bench: "start-accuracy",
    users: n,
    interarrival_ms: ia,
    mean_ms: +mean.toFixed(3),
    p50_ms: +q(50).toFixed(3),
    p99_ms: +q(99).toFixed(3),
    max_ms: +(lags.at(-1) as number).toFixed(3),
  }),
);
await node.close();
process.exit(0);
