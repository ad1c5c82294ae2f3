/**
 * Ramp-following benchmark of load shapes: `workers` real `bin/amoc worker` processes run a closed-model ramp
 * (0 -> users over `seconds`) and then an open-model ramp (0 -> `rate` arrivals/s over `seconds`); every start is
 * a UDP datagram counted at a receiver in this process. Prints each second's starts against the plan and the worst
 * error. Starts its own nats-server.
 * Run: node --import tsx bench/throttle-ramp.ts [seconds=20] [users=4000] [rate=400] [workers=4]
 */
import { NatsCluster } from "../test/helpers/nats-cluster.js";
import { Receiver, ThrottleCluster, untilAsync } from "../test/helpers/throttle-cluster.js";
import { openShape } from "../src/shapes/stages.js";
import { parseStages } from "../src/config/shapes.js";
import { loadAverage, recordFigures } from "./lib/results.js";

const SECONDS = Number(process.argv[2] ?? 20);
const USERS = Number(process.argv[3] ?? 4000);
const RATE = Number(process.argv[4] ?? 400);
const loadBefore = loadAverage();
const WORKERS = Number(process.argv[5] ?? 4);
const names = Array.from({ length: WORKERS }, (_, i) => `w${i + 1}`);

/** Starts per second from the first one, against the planned counts. */
function follow(
  rx: Receiver,
  planned: number[],
): { per_second: number[]; planned: number[]; worst_pct: number; worst_abs: number } {
  const t0 = Math.min(...rx.arrivals.map((a) => a.atMs));
  const per = planned.map((_, s) => rx.count(t0 + s * 1000, t0 + (s + 1) * 1000));
  let worst = 0;
  let worstAbs = 0;
  per.forEach((n, s) => {
    const p = planned[s]!;
    worstAbs = Math.max(worstAbs, Math.abs(n - p));
    if (p >= 20) worst = Math.max(worst, Math.abs(n - p) / p);
  });
  return { per_second: per, planned, worst_pct: Math.round(worst * 10_000) / 100, worst_abs: worstAbs };
}

const nats = await NatsCluster.start(1);
const out: Record<string, unknown> = { bench: "ramp-following", workers: WORKERS };
for (const model of ["closed", "open"] as const) {
  const rx = await new Receiver().start();
  const c = await new ThrottleCluster(nats).start(names);
  try {
    if (model === "closed") {
      await c.handle.master!.do("hold_report", 1, 1, {
        settings: { sink_port: rx.port, stages: [{ duration: `${SECONDS}s`, target: USERS }] },
      });
      await untilAsync(() => rx.arrivals.length >= USERS, (SECONDS + 30) * 1000, "every start");
      out.closed = {
        stages: `0 -> ${USERS} users over ${SECONDS} s`,
        ...follow(
          rx,
          Array.from({ length: SECONDS }, () => USERS / SECONDS),
        ),
      };
    } else {
      const stages = [{ duration: `${SECONDS}s`, target: RATE }];
      const shape = openShape(parseStages(stages));
      const planned = Array.from({ length: SECONDS }, (_, s) =>
        Math.round(((RATE / SECONDS) * ((s + 1) ** 2 - s ** 2)) / 2),
      );
      await c.handle.master!.do("hold_report", 1, 1, {
        settings: { sink_port: rx.port, arrival_rate: stages, repeat_num: 1 },
      });
      await untilAsync(() => rx.arrivals.length >= shape.users, (SECONDS + 30) * 1000, "every arrival");
      out.open = { stages: `0 -> ${RATE} arrivals/s over ${SECONDS} s (${shape.users} users)`, ...follow(rx, planned) };
    }
  } finally {
    await c.close();
    rx.close();
  }
}
await nats.stop();
console.log(JSON.stringify(out));
{
  const command = `node --import tsx bench/throttle-ramp.ts ${SECONDS} ${USERS} ${RATE} ${WORKERS}`;
  const worst = (m: unknown) => (m as { worst_pct?: number } | undefined)?.worst_pct;
  const figs = [];
  if (worst(out.closed) !== undefined)
    figs.push({
      figure: "throttle-ramp.closed.worst_second",
      value: worst(out.closed)!,
      unit: "%",
      command,
      what: `closed ramp 0 -> ${USERS} users over ${SECONDS} s, ${WORKERS} worker processes on one nats-server: worst second's starts against the plan, counted at a UDP receiver`,
    });
  if (worst(out.open) !== undefined)
    figs.push({
      figure: "throttle-ramp.open.worst_second",
      value: worst(out.open)!,
      unit: "%",
      command,
      what: `open ramp 0 -> ${RATE} arrivals/s over ${SECONDS} s, same workers: worst second against the plan`,
    });
  recordFigures(figs, loadBefore);
}
