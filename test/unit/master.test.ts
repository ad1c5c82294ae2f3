import { afterEach, describe, expect, it } from "vitest";
import type { RunState } from "../../src/cluster/run-state.js";
import type { EncodedInterval } from "../../src/results/interval.js";
import { mergeByTime, RunTotals } from "../../src/results/merge.js";
import { AmocError, ClusterError } from "../../src/errors.js";
import { fakeCluster, fakeNode, subjects } from "../helpers/fake-cluster.js";
import { until } from "../helpers/wait.js";

type Cluster = Awaited<ReturnType<typeof fakeCluster>>;
let cluster: Cluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

const HOLD = { interarrival: 0, repeat_num: 1, delay_ms: 600_000 };
const ENDS = { interarrival: 0, repeat_num: 1, delay_ms: 0 };
const running = (c: Cluster) => c.workers.reduce((n, w) => n + w.controller.status().users.running, 0);
const runRecord = (c: Cluster) => JSON.parse(c.net.kv.peek(subjects.runKey())!) as RunState;
interface Result {
  ok: boolean;
  error?: string;
  result?: Record<string, unknown>;
}

describe("Master on an in-memory bus", () => {
  it("stop leaves every worker's values in the results feed, so the merged p99 is that of all the values", async () => {
    cluster = await fakeCluster(2);
    const c = cluster;
    const got: EncodedInterval[] = [];
    c.master.feed!.follow({ addInterval: (i) => got.push(i), setNodes: () => {} });
    await c.master.master!.do("lifecycle", 1, 4, { settings: HOLD });
    await until(() => running(c) === 4, 5000, "4 running");
    // a fast worker with many values and a slow one with few: an average of per-node p99s would be ~2500 ms
    for (let i = 0; i < 9900; i++)
      c.workers[0]!.telemetry.emit("metric", { kind: "timing", name: "xmpp.message_ttd", value: 1 + (i % 100) });
    for (let i = 0; i < 100; i++)
      c.workers[1]!.telemetry.emit("metric", { kind: "timing", name: "xmpp.message_ttd", value: 5000 + i });
    c.workers[0]!.telemetry.emit("metric", { kind: "count", name: "xmpp.messages_sent", value: 7 });
    c.workers[1]!.telemetry.emit("metric", { kind: "count", name: "xmpp.messages_sent", value: 5 });
    const st = await c.master.master!.status();
    // status replies carry counts, never histograms, and the master sums no metrics of its own
    const w1 = st.nodes.w1!;
    expect(w1.ok && w1.result.users.running).toBe(2);
    expect(w1.ok && Object.keys(w1.result)).not.toContain("summary");
    expect(Object.keys(st)).not.toContain("metrics");
    const stopped = await c.master.master!.stop();
    expect(stopped.failed).toEqual([]);
    const totals = new RunTotals();
    for (const m of mergeByTime(got)) totals.add(m);
    const table = totals.table();
    expect(table["xmpp.messages_sent"]).toMatchObject({ kind: "counter", count: 12 });
    const ttd = table["xmpp.message_ttd"]!;
    expect(ttd.kind === "timing" && [ttd.count, Math.round(ttd.p99)]).toEqual([10_000, 100]);
  });

  it("stop resolves only after the results feed delivered every answering worker's final interval", async () => {
    cluster = await fakeCluster(3, { resultsMs: 3_600_000 }); // no interval ends by the clock: only the final ones
    const c = cluster;
    const got: string[] = [];
    c.master.feed!.follow({
      addInterval: (i) => got.push(`${i.node}:${i.c["xmpp.messages_sent"] ?? 0}`),
      setNodes: () => {},
    });
    await c.master.master!.do("lifecycle", 1, 6, { settings: HOLD });
    await until(() => running(c) === 6, 5000, "6 running");
    c.workers.forEach((w, k) =>
      w.telemetry.emit("metric", { kind: "count", name: "xmpp.messages_sent", value: k + 1 }),
    );
    expect(got).toEqual([]);
    const stopped = await c.master.master!.stop();
    expect(got.sort()).toEqual(["w1:1", "w2:2", "w3:3"]);
    expect(stopped.problems.filter((p) => p.kind.startsWith("final_interval_missing"))).toEqual([]);
    for (const n of ["w1", "w2", "w3"]) {
      const r = stopped.nodes[n]!;
      expect(r.ok && "final_interval" in r.result && r.result.final_interval).toBe(true);
    }
  });

  it("a worker lost during the run is listed in status and stop with what it had done and where its users went", async () => {
    cluster = await fakeCluster(3, { resultsMs: 200 });
    const c = cluster;
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
    cluster = await fakeCluster(2);
    const c = cluster;
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

  it("a worker whose start fails is named with its error, holds no share, and its users run on the others", async () => {
    cluster = await fakeCluster(3);
    const c = cluster;
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
    cluster = await fakeCluster(2);
    const c = cluster;
    for (const w of c.workers)
      w.controller.startPlans = () => {
        throw new Error(`${w.name} is broken`);
      };
    await expect(c.master.master!.do("lifecycle", 1, 10, { settings: HOLD })).rejects.toThrow(
      /w1: start failed: w1 is broken.*w2: start failed: w2 is broken/,
    );
    expect(runRecord(c).state).toBe("finished");
  });

  it("a failed read of a lost worker's ended IDs re-deals nothing and is reported; the next add re-deals only unfinished users", async () => {
    cluster = await fakeCluster(3);
    const c = cluster;
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
    cluster = await fakeCluster(3);
    const c = cluster;
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

  it("remove picks the highest IDs cluster-wide and every message carries ranges, never ID lists", async () => {
    cluster = await fakeCluster(3, { beatMs: 2000 });
    const c = cluster;
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

  it("a worker that leaves normally is logged as left, not down, and its users are not re-dealt", async () => {
    cluster = await fakeCluster(3);
    const c = cluster;
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
    cluster = await fakeCluster(3);
    const c = cluster;
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

  it("a worker that joins and cannot prepare the run is named in add's result with its error", async () => {
    cluster = await fakeCluster(2);
    const c = cluster;
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
    cluster = await fakeCluster(2);
    const c = cluster;
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
    cluster = await fakeCluster(2);
    const c = cluster;
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

  it("a worker that leaves mid-run leaves its final counts and final interval: stop's totals and the feed include them", async () => {
    cluster = await fakeCluster(3);
    const c = cluster;
    const got: EncodedInterval[] = [];
    c.master.feed!.follow({ addInterval: (i) => got.push(i), setNodes: () => {} });
    await c.master.master!.do("lifecycle", 1, 30, { settings: HOLD });
    await until(() => running(c) === 30, 5000, "30 running");
    for (const w of c.workers) w.telemetry.emit("metric", { kind: "count", name: "xmpp.messages_sent", value: 2 });
    c.workers[2]!.telemetry.emit("metric", { kind: "timing", name: "xmpp.message_ttd", value: 40 });
    await c.workers[2]!.leave();
    await until(() => runRecord(c).workers.w3?.left === true, 5000, "w3 recorded as left");
    const stopped = await c.master.master!.stop();
    expect(stopped.failed).toEqual([]);
    expect(stopped.nodes.w3).toMatchObject({ ok: true, result: { state: "left" } });
    expect(stopped.users).toMatchObject({ started: 30, removed: 30, running: 0 });
    const totals = new RunTotals();
    for (const m of mergeByTime(got)) totals.add(m);
    expect(totals.table()["xmpp.messages_sent"]).toMatchObject({ count: 6 });
    expect(totals.table()["xmpp.message_ttd"]).toMatchObject({ count: 1 });
  });

  it("a worker whose node shut its controller down before leaving still leaves its final counts, not a lost entry", async () => {
    cluster = await fakeCluster(2);
    const c = cluster;
    await c.master.master!.do("lifecycle", 1, 10, { settings: HOLD });
    await until(() => running(c) === 10, 5000, "10 running");
    // as `amoc worker` on SIGTERM: the node's close stops the controller first, then the cluster handle leaves
    await c.workers[1]!.controller.shutdown();
    await c.workers[1]!.leave();
    await until(() => runRecord(c).workers.w2?.left === true, 5000, "w2 recorded as left");
    const stopped = await c.master.master!.stop();
    expect(stopped.nodes.w2).toMatchObject({ ok: true, result: { state: "left", users: { started: 5, removed: 5 } } });
    expect(stopped.failed).toEqual([]);
  });

  it("a reply that is not of its command's type is named as malformed, never read", async () => {
    cluster = await fakeCluster(2);
    const c = cluster;
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
    cluster = await fakeCluster(3);
    const c = cluster;
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

  it("a second process under a live worker's name runs none of the run's users, and a forged heartbeat re-deals nothing", async () => {
    cluster = await fakeCluster(2);
    const c = cluster;
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

  it("a new run removes the ended and final records of earlier runs from the bucket", async () => {
    cluster = await fakeCluster(2);
    const c = cluster;
    const first = (await c.master.master!.do("lifecycle", 1, 4, { settings: ENDS })).run_id as string;
    await until(() => c.net.kv.peek(`ended.${first}.w1`) !== undefined, 5000, "w1's ended IDs recorded");
    await c.master.master!.stop();
    await c.net.kv.put(`final.${first}.w9`, "{}");
    const second = (await c.master.master!.do("lifecycle", 1, 4, { settings: HOLD })).run_id as string;
    const keys = await c.net.kv.keys(">");
    expect(keys.filter((k) => k.includes(first))).toEqual([]);
    expect(second).not.toBe(first);
  });
});
