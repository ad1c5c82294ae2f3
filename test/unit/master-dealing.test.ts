/** How the master deals starts, adds, removals and settings to workers on an in-memory bus, and names failures. */
import { describe, expect, it } from "vitest";
import { AmocError, ClusterError } from "../../src/errors.js";
import { fakeNode, subjects } from "../helpers/fake-cluster.js";
import { until } from "../helpers/wait.js";
import { HOLD, type Result, runRecord, running, testCluster } from "../helpers/master-cluster.js";

describe("Master on an in-memory bus", () => {
  it("a worker whose start fails is named with its error, holds no share, and its users run on the others", async () => {
    const c = await testCluster(3);
    c.workers[1]!.controller.startPlans = () => {
      throw new AmocError("STATE_INVALID", "w2 cannot start users", "fix w2");
    };
    const r = (await c.master.master!.do("lifecycle", 1, 30, { settings: HOLD })) as {
      undealt: number;
      failed: string[];
      nodes: Record<string, Result>;
    };
    expect(r.failed).toEqual(["w2"]);
    expect(r.nodes.w2).toMatchObject({
      ok: false,
      error: expect.stringMatching(
        /start failed: w2 cannot start users.*its 10 users were dealt to the others/,
      ) as unknown,
    });
    expect(r.undealt).toBe(0);
    expect(Object.keys(runRecord(c).workers).sort()).toEqual(["w1", "w3"]);
    await until(() => running(c) === 30, 5000, "all 30 running on w1 and w3");
    const ids = [...c.workers[0]!.controller.runningIds(), ...c.workers[2]!.controller.runningIds()].sort(
      (a, b) => a - b,
    );
    expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it("when no worker accepts its share, do fails naming each worker and the run is not left running", async () => {
    const c = await testCluster(2);
    for (const w of c.workers)
      w.controller.startPlans = () => {
        throw new Error(`${w.name} is broken`);
      };
    await expect(c.master.master!.do("lifecycle", 1, 10, { settings: HOLD })).rejects.toThrow(
      /w1: start failed: w1 is broken.*w2: start failed: w2 is broken/,
    );
    expect(runRecord(c).state).toBe("finished");
  });

  it("remove picks the highest IDs cluster-wide and every message carries ranges, never ID lists", async () => {
    const c = await testCluster(3, { beatMs: 2000 });
    await c.master.master!.do("lifecycle", 1, 30_000, { settings: HOLD });
    await until(() => running(c) === 30_000, 20_000, "30,000 running");
    const r = (await c.master.master!.remove(9000, { force: true })) as {
      removed: number;
      ids: number[];
      failed: string[];
    };
    expect(r).toMatchObject({ removed: 9000, ids: [21_001, 30_000], failed: [] });
    await until(() => running(c) === 21_000, 10_000, "21,000 running");
    const all = c.workers.flatMap((w) => w.controller.runningIds());
    expect(Math.max(...all)).toBe(21_000);
    expect(Math.max(...c.net.log.map((m) => m.data.length))).toBeLessThan(4000);
    // the run records the removal as the three workers' progressions, not 9,000 IDs
    expect(runRecord(c).removed).toEqual([
      { first: 21_001, last: 29_998, step: 3 },
      { first: 21_002, last: 29_999, step: 3 },
      { first: 21_003, last: 30_000, step: 3 },
    ]);
  }, 30_000);

  it("a worker that joins and cannot prepare the run is named in add's result with its error", async () => {
    const c = await testCluster(2);
    await c.master.master!.do("lifecycle", 1, 10, { settings: HOLD });
    await until(() => running(c) === 10, 5000, "10 running");
    c.net.kv.failGet = (key) => key === subjects.runKey(); // w3 cannot join the run by itself
    const late = await fakeNode(c.net, "w3", "worker");
    c.net.kv.failGet = undefined;
    c.workers.push(late);
    late.controller.prepare = () => Promise.reject(new Error("scenario missing on w3"));
    await until(() => c.master.membership.isAlive("w3"), 5000, "w3 seen");
    const r = (await c.master.master!.add(4)) as { failed: string[]; nodes: Record<string, Result> };
    expect(r.failed).toEqual(["w3"]);
    expect(r.nodes.w3).toEqual({
      ok: false,
      error: expect.stringMatching(/prepare failed: scenario missing on w3/) as unknown,
    });
    await until(() => running(c) === 14, 5000, "14 running on w1 and w2");
  });

  it("a forced removal short of fresh users on one worker still newly selects as many users as it can cluster-wide", async () => {
    const c = await testCluster(2);
    await c.master.master!.do("lifecycle", 1, 20, { settings: HOLD });
    await until(() => running(c) === 20, 5000, "20 running");
    // w2 (even IDs) removes its 5 highest gracefully: 12..20 keep running while they finish their start()
    const graceful = (await c.master.master!.remove(5, { nodes: ["w2"] })) as { removed: number };
    expect(graceful.removed).toBe(5);
    const st = (await c.master.master!.status()) as { users: Record<string, number> };
    expect(st.users.removing).toBe(5);
    // w2 has only 5 fresh users left: its graceful 20, 18, 16 must not push out w1's fresh 11, 9, 8
    const forced = (await c.master.master!.remove(8, { force: true })) as { removed: number; failed: string[] };
    expect(forced).toMatchObject({ removed: 8, failed: [] });
    await until(() => running(c) === 12, 5000, "12 running (20 - 8 forced; the 5 graceful still finishing)");
    expect(c.workers.flatMap((w) => w.controller.runningIds()).sort((a, b) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 12, 14, 16, 18, 20,
    ]);
  });

  it("settings every worker refuses for the client's reason fail with the local controller's code, not a node failure", async () => {
    const c = await testCluster(2);
    await c.master.master!.do("lifecycle", 1, 4, { settings: HOLD });
    await until(() => running(c) === 4, 5000, "4 running");
    const codeOf = async (f: () => unknown) => {
      try {
        await f();
      } catch (e) {
        return (e as AmocError).code;
      }
      return "none";
    };
    for (const settings of [{ greeting: "yo" }, { no_such_var: 1 }, { delay_ms: -1 }, { interarrival: 5 }]) {
      const local = await codeOf(() => c.workers[0]!.controller.updateSettings(settings));
      expect(local).not.toBe("none");
      expect(await codeOf(() => c.master.master!.updateSettings(settings))).toBe(local);
    }
    // a valid change still goes through
    const ok = (await c.master.master!.updateSettings({ delay_ms: 500_000 })) as { nodes: Record<string, Result> };
    expect(Object.values(ok.nodes).every((r) => r.ok)).toBe(true);
  });

  it("a reply that is not of its command's type is named as malformed, never read", async () => {
    const c = await testCluster(2);
    const bus = c.master.bus;
    const request = bus.request.bind(bus);
    // w2 answers status with user counts that are not numbers
    bus.request = async (subject, data, timeoutMs) => {
      const reply = await request(subject, data, timeoutMs);
      return subject === subjects.command("w2") && data.includes('"type":"status"')
        ? reply.replace('"running":0', '"running":"0"')
        : reply;
    };
    const st = await c.master.master!.status();
    expect(st.nodes.w2).toEqual({
      ok: false,
      error: expect.stringMatching(/^malformed reply: status reply: users must map names to counts/) as unknown,
    });
    expect(st.nodes.w1).toMatchObject({ ok: true });
  });

  it("a start whose answer was lost is asked again, not dealt to others: no user starts twice", async () => {
    const c = await testCluster(3);
    const bus = c.master.bus;
    const request = bus.request.bind(bus);
    let lost = 0;
    // w2 takes its share, but its answer never reaches the master (as after a timeout)
    bus.request = async (subject, data, timeoutMs) => {
      const reply = await request(subject, data, timeoutMs);
      if (subject === subjects.command("w2") && data.includes('"type":"start"') && lost++ === 0)
        throw new ClusterError("CLUSTER_NODE_FAILED", "no reply within 2000 ms", "fake");
      return reply;
    };
    const r = (await c.master.master!.do("lifecycle", 1, 30, { settings: HOLD })) as {
      undealt: number;
      failed: string[];
    };
    expect(r).toMatchObject({ undealt: 0, failed: [] });
    await until(() => running(c) === 30, 5000, "30 running");
    const ids = c.workers.flatMap((w) => w.controller.runningIds()).sort((a, b) => a - b);
    expect(ids).toEqual(Array.from({ length: 30 }, (_, i) => i + 1)); // each once
    expect(c.workers[1]!.controller.status().users.started).toBe(10);
    expect(Object.keys(runRecord(c).workers).sort()).toEqual(["w1", "w2", "w3"]);
  });
});
