/** The coordinator across real `bin/amoc worker` processes: users on different workers meet through the master's hub. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ThrottleRig, untilAsync, type Receiver, type ThrottleCluster } from "../helpers/throttle-cluster.js";

const rig = new ThrottleRig();
let rx: Receiver;
let c: ThrottleCluster;

beforeAll(async () => {
  ({ rx, c } = await rig.start(["w1", "w2"]));
}, 120_000);
afterAll(async () => {
  await rig.stop();
});

interface Report {
  id: number;
  node: string;
  members: Array<{ id: number; value: string }>;
}

describe("cluster-wide coordinator", () => {
  it("pairs users that live on different workers, each getting both IDs and values", async () => {
    // IDs are dealt round-robin (odd on w1, even on w2) and join in ID order 100 ms apart: each pair spans both workers
    await c.handle.master!.do("pairs", 1, 10, {
      settings: { interarrival: 100, repeat_num: 1, sink_port: rx.port, group_size: 2, group_timeout_ms: 20_000 },
    });
    await untilAsync(() => rx.arrivals.length === 10, 30_000, "10 users report their pair");
    const reports = rx.arrivals.map((a) => JSON.parse(a.node) as Report);
    const byId = new Map(reports.map((r) => [r.id, r]));
    for (let id = 1; id <= 10; id += 2) {
      const a = byId.get(id)!;
      const b = byId.get(id + 1)!;
      expect(a.members).toEqual(b.members);
      expect(a.members.map((m) => m.id)).toEqual([id, id + 1]);
      expect(new Set(a.members.map((m) => m.value))).toEqual(new Set(["w1", "w2"]));
      expect(a.node).not.toBe(b.node);
    }
  });
});
