/**
 * Benchmark: N idle users at interarrival 0 in one process. Prints RSS and heap per user, users started per
 * second, and the longest event-loop stall while starting them (a worker stalled for 3 s is judged dead).
 * Run: node --expose-gc --import tsx bench/idle-users.ts 1000000
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createNode } from "../src/main.js";
import { loadAverage, recordFigures } from "./lib/results.js";

const n = Number(process.argv[2] ?? 100_000);
const loadBefore = loadAverage();
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

function mem(): { rss: number; heap: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

const node = createNode({ env: { ...process.env, AMOC_LOG_LEVEL: "warn" } });
const c = node.controller;
// the node and the scenario loaded, so the baseline holds everything but the users
await c.do("idle", 1, 1, { interarrival: 0, repeat_num: 1 });
await new Promise((r) => setTimeout(r, 50));
await c.stop();
const base = mem();
const lag = monitorEventLoopDelay({ resolution: 10 });
lag.enable();
const t0 = performance.now();
await c.do("idle", 1, n, { interarrival: 0, repeat_num: 1 });
while (c.status().users.running < n) await new Promise((r) => setTimeout(r, 5));
const startS = (performance.now() - t0) / 1000;
lag.disable();
const after = mem();
const rssPerUser = (after.rss - base.rss) / n;
const heapPerUser = (after.heap - base.heap) / n;
const t1 = performance.now();
await c.stop();
const stopS = (performance.now() - t1) / 1000;
const out = {
  bench: "idle-users",
  users: n,
  start_s: +startS.toFixed(3),
  users_per_s: Math.round(n / startS),
  start_stall_max_ms: Math.round(lag.max / 1e6),
  start_stall_p99_ms: Math.round(lag.percentile(99) / 1e6),
  rss_per_user_bytes: Math.round(rssPerUser),
  heap_per_user_bytes: Math.round(heapPerUser),
  rss_total_mb: Math.round(after.rss / 2 ** 20),
  stop_s: +stopS.toFixed(3),
};
console.log(JSON.stringify(out));
const command = `node --expose-gc --import tsx bench/idle-users.ts ${n}`;
const k = `idle-users.${n}`;
const users = n.toLocaleString("en-US");
recordFigures(
  [
    {
      figure: `${k}.rss_per_user`,
      value: out.rss_per_user_bytes,
      unit: "B",
      command,
      what: `RSS per idle user, ${users} users at interarrival 0 in one process (after GC; amoc-ts's own cost per user)`,
    },
    {
      figure: `${k}.heap_per_user`,
      value: out.heap_per_user_bytes,
      unit: "B",
      command,
      what: `JS heap per idle user, same run`,
    },
    {
      figure: `${k}.start_rate`,
      value: out.users_per_s,
      unit: "users/s",
      command,
      what: `users started per second, ${users} at interarrival 0 (one core of the scheduler)`,
    },
    {
      figure: `${k}.start_stall_max`,
      value: out.start_stall_max_ms,
      unit: "ms",
      command,
      what: "longest event-loop stall while starting them (a worker stalled for 3 s is judged down)",
    },
    { figure: `${k}.stop`, value: out.stop_s, unit: "s", command, what: `stop of all ${users} users` },
  ],
  loadBefore,
);
await node.close();
process.exit(0);
