/** The master on an in-memory bus when workers are lost or leave: what is reported and which users are re-dealt. */
import { describe, expect, it } from "vitest";
import { fakeNode, subjects } from "../helpers/fake-cluster.js";
import { until } from "../helpers/wait.js";
import { ENDS, HOLD, type Cluster, type Result, runRecord, running, testCluster } from "../helpers/master-cluster.js";

describe("Master on an in-memory bus", () => {
  it("a worker lost during the run is listed in status and stop with what it had done and where its users went", async () => {
    const c = await testCluster(3, { resultsMs: 200 });
    const w2 = c.workers[1]!;
    await c.master.master!.do("lifecycle", 1, 30, { settings: HOLD });
    await until(() => running(c) === 30, 5000, "30 running");
    // w2's counts reach the master through its results intervals before it dies
    await until(
      () =>
        c.net.log.some(
          (m) =>
            m.subject.includes(".results.") && m.data.includes('"from":"w2"') && m.data.includes('"users.started":10'),
        ),
      5000,
      "w2 reported its 10 started users",
    );
    await new Promise((r) => setTimeout(r, 50));
    await w2.crash();
    await w2.controller.stop();
    await until(() => runRecord(c).workers.w2?.lost === true && running(c) === 30, 5000, "w2's users re-dealt");
    const want = {
      ok: false,
      lost: true,
      error: expect.stringMatching(/^down \(no heartbeat\); 10 of its unfinished users were re-dealt/) as unknown,
      last: expect.objectContaining({ started: 10, running: 10 }) as unknown,
      redealt_to: { w1: 5, w3: 5 },
    };
    const st = await c.master.master!.status();
    expect(st.nodes.w2).toEqual(want);
    expect(st.run?.lost_nodes).toEqual(["w2"]);
    const stopped = await c.master.master!.stop();
    expect(stopped.nodes.w2).toEqual(want);
    expect(stopped.failed).toEqual(["w2"]);
    expect(Object.keys(stopped.nodes).sort()).toEqual(["w1", "w2", "w3"]);
    expect(stopped.users).toMatchObject({ started: 20 + 10, running: 0 });
  });

  it("a worker that dies while it is being stopped is listed lost, and the stop does not wait for its final interval", async () => {
    const c = await testCluster(2);
    await c.master.master!.do("lifecycle", 1, 4, { settings: HOLD });
    await until(() => running(c) === 4, 5000, "4 running");
    const w2 = c.workers[1]!;
    // w2 hears the stop but dies before it answers
    const realStop = w2.controller.stop.bind(w2.controller);
    w2.controller.stop = () => new Promise(() => {});
    const t0 = Date.now();
    const stopped = await c.master.master!.stop();
    expect(Date.now() - t0).toBeLessThan(2000 + 5000 + 1000);
    expect(stopped.nodes.w2).toMatchObject({
      ok: false,
      lost: true,
      redealt_to: {},
      error: expect.stringMatching(/did not answer the stop/) as unknown,
    });
    expect(stopped.nodes.w1).toMatchObject({ ok: true });
    w2.controller.stop = realStop;
  }, 15_000);

  it("a failed read of a lost worker's ended IDs re-deals nothing and is reported; the next add re-deals only unfinished users", async () => {
    const c = await testCluster(3);
    const [w1, w2, w3] = c.workers as [Cluster["workers"][0], Cluster["workers"][0], Cluster["workers"][0]];
    await c.master.master!.do("lifecycle", 1, 30, { settings: ENDS });
    const endedKey = subjects.endedKey(runRecord(c).runId, "w2");
    await until(() => w2.controller.status().users.finished === 10, 5000, "w2's users finished");
    await until(() => c.net.kv.peek(endedKey)?.includes('"count":10') === true, 5000, "w2 recorded its 10 ended users");
    c.net.kv.failGet = (key) => key === endedKey;
    await w2.crash();
    await until(() => c.net.kv.failedGets >= 3, 5000, "the master tried to read w2's ended IDs");
    const st = (await c.master.master!.status()) as {
      problems: Array<{ node: string; kind: string; message: string }>;
      nodes: Record<string, Result>;
    };
    await until(() => c.master.lines.some((l) => l.msg === "redeal_failed:w2"), 5000, "the failure logged");
    const st2 = (await c.master.master!.status()) as typeof st;
    expect(st2.problems).toContainEqual(
      expect.objectContaining({
        node: "m1",
        kind: "redeal_failed:w2",
        message: expect.stringMatching(/cannot read the IDs that ended on w2/) as unknown,
      }),
    );
    expect(st.nodes.w2).toMatchObject({ ok: false });
    expect(runRecord(c).workers.w2!.lost).toBeUndefined();
    // nothing was guessed: the survivors got none of w2's (finished) users
    expect(w1.controller.status().users.started + w3.controller.status().users.started).toBe(20);
    c.net.kv.failGet = undefined;
    await c.master.master!.add(2);
    await until(
      () => w1.controller.status().users.finished + w3.controller.status().users.finished === 22,
      5000,
      "the 2 added users finished",
    );
    expect(w1.controller.status().users.started + w3.controller.status().users.started).toBe(22);
    expect(runRecord(c).workers.w2!.lost).toBe(true);
    expect(c.master.lines.filter((l) => l.msg === "redeal_failed:w2")).toHaveLength(1); // logged once, then counted
  });

  it("a lost worker's unfinished users, and only those, are re-dealt to the survivors", async () => {
    const c = await testCluster(3);
    const w2 = c.workers[1]!;
    await c.master.master!.do("lifecycle", 1, 30, { settings: HOLD });
    await until(() => running(c) === 30, 5000, "30 running");
    await c.master.master!.remove(3, { force: true }); // 28, 29, 30: never re-dealt
    await until(() => running(c) === 27, 5000, "27 running");
    await w2.crash();
    await w2.controller.stop();
    await until(
      () => running(c) === 27 && runRecord(c).workers.w2?.lost === true,
      5000,
      "w2's users running on the others",
    );
    const ids = [...c.workers[0]!.controller.runningIds(), ...c.workers[2]!.controller.runningIds()].sort(
      (a, b) => a - b,
    );
    expect(ids).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
  });

  it("a worker that leaves normally is logged as left, not down, and its users are not re-dealt", async () => {
    const c = await testCluster(3);
    await c.master.master!.do("lifecycle", 1, 30, { settings: HOLD });
    await until(() => running(c) === 30, 5000, "30 running");
    await c.workers[2]!.leave();
    await until(() => runRecord(c).workers.w3?.left === true, 5000, "w3 recorded as left");
    const st = (await c.master.master!.status()) as {
      nodes: Record<string, Result>;
      run: { left_nodes: string[]; lost_nodes: string[] };
    };
    expect(st.nodes.w3).toMatchObject({
      ok: true,
      result: { state: "left", run_id: null, users: { started: 10, removed: 10, running: 0 } },
    });
    expect(st.run).toMatchObject({ left_nodes: ["w3"], lost_nodes: [] });
    expect(running(c)).toBe(20); // w3 stopped its 10 itself; nobody runs them again
    expect(c.master.lines.some((l) => l.msg === "node_left" && l.node === "w3")).toBe(true);
    expect(c.master.lines.some((l) => l.msg === "node_down")).toBe(false);
  });

  it("an add during a re-deal waits for it: neither overwrites the other's books", async () => {
    const c = await testCluster(3);
    await c.master.master!.do("lifecycle", 1, 30, { settings: HOLD });
    await until(() => running(c) === 30, 5000, "30 running");
    const endedKey = subjects.endedKey(runRecord(c).runId, "w2");
    let fails = 1; // the re-deal's first read of w2's ended IDs fails: it retries 100 ms later, mid-add
    c.net.kv.failGet = (key) => key === endedKey && fails-- > 0;
    await c.workers[1]!.crash();
    await c.workers[1]!.controller.stop();
    await until(() => c.net.kv.failedGets === 1, 5000, "the re-deal under way");
    const added = (await c.master.master!.add(3)) as { failed: string[] };
    expect(added.failed).toEqual([]);
    await until(() => running(c) === 33, 5000, "w2's 10 users re-dealt and 3 added");
    expect(runRecord(c).workers.w2!.lost).toBe(true);
    expect(runRecord(c).lastId).toBe(33);
  });

  it("a second process under a live worker's name runs none of the run's users, and a forged heartbeat re-deals nothing", async () => {
    const c = await testCluster(2);
    // joined before hearing the first w1 (it skipped its listen window): the master knows w1 by its first boot ID
    const twin = await fakeNode(c.net, "w1", "worker", { boot: "b2" });
    try {
      await c.master.master!.do("lifecycle", 1, 20, { settings: HOLD });
      await until(() => running(c) === 20, 5000, "20 running");
      expect(twin.controller.status().users.running).toBe(0);
      const forged = {
        v: 1,
        type: "heartbeat",
        from: "w2",
        role: "worker",
        boot: "forged",
        labels: {},
        runId: null,
        state: "idle",
        running: 0,
      };
      c.net.bus().publish(subjects.heartbeat(), JSON.stringify(forged));
      await until(
        () => c.master.lines.some((l) => l.msg === "duplicate_node_name:w2"),
        2000,
        "the forged beat reported",
      );
      expect(runRecord(c).workers.w2?.lost).toBeUndefined();
      expect(running(c)).toBe(20);
      expect(c.master.lines.filter((l) => l.msg === "node_down")).toEqual([]);
    } finally {
      await twin.crash();
      if (twin.controller.state === "running") await twin.controller.stop();
    }
  });
});
