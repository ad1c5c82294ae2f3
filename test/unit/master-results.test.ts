/** The master's results on an in-memory bus: each worker's values and final interval reach the feed and the totals. */
import { describe, expect, it } from "vitest";
import type { EncodedInterval } from "../../src/results/interval.js";
import { mergeByTime, RunTotals } from "../../src/results/merge.js";
import { until } from "../helpers/wait.js";
import { ENDS, HOLD, runRecord, running, testCluster } from "../helpers/master-cluster.js";

describe("Master on an in-memory bus", () => {
  it("stop leaves every worker's values in the results feed, so the merged p99 is that of all the values", async () => {
    const c = await testCluster(2);
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
    const c = await testCluster(3, { resultsMs: 3_600_000 }); // no interval ends by the clock: only the final ones
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

  it("a worker that leaves mid-run leaves its final counts and final interval: stop's totals and the feed include them", async () => {
    const c = await testCluster(3);
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
    const c = await testCluster(2);
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

  it("a new run removes the ended and final records of earlier runs from the bucket", async () => {
    const c = await testCluster(2);
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
