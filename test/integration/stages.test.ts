/** Load shapes across real `bin/amoc worker` processes: the cluster follows the stages as one machine would. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ThrottleRig, untilAsync, type Receiver, type ThrottleCluster } from "../helpers/throttle-cluster.js";

const rig = new ThrottleRig();
let rx: Receiver;
let c: ThrottleCluster;

beforeAll(async () => {
  ({ rx, c } = await rig.start(["w1", "w2", "w3"]));
}, 120_000);
afterAll(async () => {
  await rig.stop();
});

describe("load shapes in a cluster", () => {
  it("a ramp stage's starts over 3 workers follow the planned curve (each second within 5 %), then ramp down to 0", async () => {
    const r = await c.handle.master!.do("hold_report", 1, 1, {
      settings: {
        sink_port: rx.port,
        stages: [
          { duration: "3s", target: 600 },
          { duration: "1s", target: 600 },
          { duration: "2s", target: 0 },
        ],
      },
    });
    expect(r.users).toBe(600);
    expect(r.to).toBe(600);
    await untilAsync(() => rx.arrivals.length === 600, 20_000, "600 starts");
    const t0 = Math.min(...rx.arrivals.map((a) => a.atMs));
    const perSecond = [0, 1, 2].map((s) => rx.count(t0 + s * 1000, t0 + (s + 1) * 1000));
    console.log(
      `ramp 0 -> 600 users over 3 s on 3 workers: starts per second ${perSecond.join(", ")} (planned 200 each)`,
    );
    for (const n of perSecond) expect(Math.abs(n - 200)).toBeLessThanOrEqual(10);
    for (const w of ["w1", "w2", "w3"]) expect(rx.count(0, Infinity, w)).toBe(200);
    // the ramp-down: the master removes the highest users evenly over its 2 s
    await untilAsync(
      async () => ((await c.handle.master!.status()).users as { running: number }).running === 0,
      20_000,
      "ramp-down to 0",
    );
  });
});
