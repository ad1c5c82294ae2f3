/**
 * Benchmark of the cluster-wide throttle: `workers` real `bin/amoc worker` processes share one throttle of `rate`
 * actions/s for `seconds`; every action is a UDP datagram counted at a receiver in this process (not by the throttle).
 * Prints the achieved rate against the asked one and the worst 1 s window (sliding by 100 ms).
 * Starts its own nats-server unless AMOC_NATS_URL is set.
 * Run: node --import tsx bench/throttle-precision.ts [seconds=60] [rate=1000] [workers=4]
 */
import { NatsCluster } from "../test/helpers/nats-cluster.js";
import { Receiver, ThrottleCluster, untilAsync } from "../test/helpers/throttle-cluster.js";
import { loadAverage, recordFigures } from "./lib/results.js";

const SECONDS = Number(process.argv[2] ?? 60);
const RATE = Number(process.argv[3] ?? 1000);
const WORKERS = Number(process.argv[4] ?? 4);
const loadBefore = loadAverage();
const names = Array.from({ length: WORKERS }, (_, i) => `w${i + 1}`);

const nats = await NatsCluster.start(1);
const rx = await new Receiver().start();
const c = await new ThrottleCluster(nats).start(names);
try {
  await c.handle.master!.do("throttled", 1, WORKERS * 20, {
    settings: { interarrival: 0, sink_port: rx.port, throttles: { t: { rate: RATE, interval: 1000 } } },
  });
  await untilAsync(() => names.every((w) => rx.count(0, Date.now(), w) > 0), 30_000, "every worker acting");
  await new Promise((r) => setTimeout(r, 2000)); // warm-up: the split is out, every queue is full
  const from = Date.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000 + 300));
  const to = from + SECONDS * 1000;
  const total = rx.count(from, to);
  const achieved = total / SECONDS;
  let worst = 0;
  let worstAt = 0;
  const windows: number[] = [];
  for (let t = from; t + 1000 <= to; t += 100) {
    const n = rx.count(t, t + 1000);
    windows.push(n);
    const dev = Math.abs(n - RATE) / RATE;
    if (dev > worst) {
      worst = dev;
      worstAt = t - from;
    }
  }
  const per = Object.fromEntries(names.map((w) => [w, Math.round((rx.count(from, to, w) / SECONDS) * 10) / 10]));
  const command = `node --import tsx bench/throttle-precision.ts ${SECONDS} ${RATE} ${WORKERS}`;
  const run = `throttle of ${RATE}/s shared by ${WORKERS} worker processes on one nats-server for ${SECONDS} s, counted at a UDP receiver`;
  recordFigures(
    [
      {
        figure: "throttle-precision.achieved",
        value: Math.round(achieved * 100) / 100,
        unit: "/s",
        command,
        what: `achieved rate, ${run} (the cluster throttle's precision)`,
      },
      {
        figure: "throttle-precision.worst_window",
        value: Math.round(worst * 10_000) / 100,
        unit: "%",
        command,
        what: `worst 1 s window (sliding by 100 ms) against the asked rate, same run (${Math.min(...windows)}-${Math.max(...windows)} actions)`,
      },
    ],
    loadBefore,
  );
  console.log(
    JSON.stringify({
      bench: "throttle-precision",
      workers: WORKERS,
      asked_per_s: RATE,
      seconds: SECONDS,
      actions: total,
      achieved_per_s: Math.round(achieved * 100) / 100,
      error_pct: Math.round(((achieved - RATE) / RATE) * 10_000) / 100,
      worst_1s_window_pct: Math.round(worst * 10_000) / 100,
      worst_window_at_s: worstAt / 1000,
      min_1s_window: Math.min(...windows),
      max_1s_window: Math.max(...windows),
      per_worker_per_s: per,
    }),
  );
} finally {
  await c.close();
  rx.close();
  await nats.stop();
}
