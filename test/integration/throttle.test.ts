/**
 * Cluster-wide throttles across real `bin/amoc worker` processes: the actions are counted where they land (a UDP
 * receiver in this process), not by the throttle. Each worker paces its share; nothing travels per action.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ThrottleRig, untilAsync, type Receiver, type ThrottleCluster } from "../helpers/throttle-cluster.js";

const rig = new ThrottleRig();
let rx: Receiver;
let c: ThrottleCluster;

beforeAll(async () => {
  ({ rx, c } = await rig.start(["w1", "w2", "w3"]));
}, 120_000);
afterAll(async () => {
  if (rx?.arrivals.length) {
    const t0 = rx.arrivals[0]!.atMs;
    const rows: Record<string, Record<string, number>> = {};
    for (const a of rx.arrivals)
      (rows[Math.floor((a.atMs - t0) / 1000)] ??= {})[a.node] =
        (rows[Math.floor((a.atMs - t0) / 1000)]?.[a.node] ?? 0) + 1;
    if (process.env.AMOC_TEST_DEBUG) console.log(JSON.stringify(rows));
  }
  await rig.stop();
});

/** Waits `ms`, then returns the arrivals of that span (per node too). */
async function window(ms: number): Promise<{ total: number; per: Record<string, number>; fromMs: number }> {
  const fromMs = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  const per: Record<string, number> = {};
  for (const w of ["w1", "w2", "w3"]) per[w] = rx.count(fromMs, fromMs + ms, w);
  return { total: rx.count(fromMs, fromMs + ms), per, fromMs };
}

describe("cluster-wide throttle", () => {
  it("holds the asked rate across 3 worker processes, each pacing its share, and changes it live", async () => {
    await c.handle.master!.do("throttled", 1, 30, {
      settings: { interarrival: 0, sink_port: rx.port, throttles: { t: { rate: 300, interval: 1000 } } },
    });
    await untilAsync(
      () => ["w1", "w2", "w3"].every((w) => rx.count(0, Date.now(), w) > 10),
      15_000,
      "every worker acting",
    );
    const a = await window(3000);
    expect(Math.abs(a.total - 900) / 900).toBeLessThan(0.05);
    for (const w of ["w1", "w2", "w3"]) expect(Math.abs(a.per[w]! - 300) / 300).toBeLessThan(0.1);

    const r = await c.handle.throttles!.op({ op: "change_rate", name: "t", config: { rate: 600, interval: 1000 } });
    expect(Object.values(r).every((x) => x.ok)).toBe(true);
    const b = await window(2000);
    expect(Math.abs(b.total - 1200) / 1200).toBeLessThan(0.05);

    await c.handle.throttles!.op({ op: "pause", name: "t" });
    await new Promise((res) => setTimeout(res, 200)); // datagrams in flight land
    const p = await window(500);
    expect(p.total).toBe(0);
    await c.handle.throttles!.op({ op: "resume", name: "t" });
    await untilAsync(() => rx.count(Date.now() - 300, Date.now()) > 0, 5000, "actions after resume");
  });

  it("a worker killed mid-throttle: the rate is re-split over the survivors within 3 s", async () => {
    const killedAt = Date.now();
    c.kill("w3");
    await untilAsync(() => !c.handle.membership.isAlive("w3"), 15_000, "w3 judged down");
    const downAt = Date.now();
    // the first half-second window after the loss in which the survivors deliver the whole rate (600/s)
    let recoveredAt = 0;
    await untilAsync(
      () => {
        const now = Date.now();
        for (let from = downAt; from + 500 <= now; from += 100) {
          if (rx.count(from, from + 500) >= 0.95 * 300) {
            recoveredAt = from;
            return true;
          }
        }
        return false;
      },
      10_000,
      "the survivors at the full rate",
    );
    console.log(
      `throttle re-split: w3 killed, judged down after ${downAt - killedAt} ms, full rate again ${recoveredAt - downAt} ms after that`,
    );
    expect(recoveredAt - downAt).toBeLessThanOrEqual(3000);
    const s = await window(2000);
    expect(Math.abs(s.total - 1200) / 1200).toBeLessThan(0.05);
    expect(s.per.w3).toBe(0);
  });

  it("rates given to groups of nodes apply per group and change independently, the rest keeping the cluster-wide rate", async () => {
    // w1 and w2 hold the cluster-wide 600/s; w1 alone is given 400/s: its group's rate, while w2 (the rest) keeps 600/s
    const r = await c.handle.throttles!.op({ op: "change_rate", name: "t", config: { rate: 400, interval: 1000 } }, [
      "w1",
    ]);
    expect(Object.keys(r)).toEqual(["w1"]);
    await new Promise((res) => setTimeout(res, 300));
    let s = await window(2000);
    expect(Math.abs(s.per.w1! - 800) / 800).toBeLessThan(0.05);
    expect(Math.abs(s.per.w2! - 1200) / 1200).toBeLessThan(0.05);
    await c.handle.throttles!.op({ op: "change_rate", name: "t", config: { rate: 100, interval: 1000 } }, ["w2"]);
    await new Promise((res) => setTimeout(res, 300));
    s = await window(2000);
    expect(Math.abs(s.per.w1! - 800) / 800).toBeLessThan(0.05);
    expect(Math.abs(s.per.w2! - 200) / 200).toBeLessThan(0.05);
  });
});
