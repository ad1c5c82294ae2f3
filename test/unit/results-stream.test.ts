/** Distributed time series over a fake bus: workers' publishers, the master's feed and recorder. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { encodeResults } from "../../src/cluster/protocol.js";
import { ResultsFeed } from "../../src/cluster/results-feed.js";
import { ResultsPublisher } from "../../src/cluster/results-publisher.js";
import { Subjects } from "../../src/cluster/subjects.js";
import { recordRun } from "../../src/results/recorder.js";
import { readRunResults } from "../../src/results/run-results.js";
import { RunStore } from "../../src/results/store.js";
import { Telemetry } from "../../src/telemetry.js";
import { until } from "../helpers/wait.js";

const dirs: string[] = [];
function tmpStore(): string {
  const d = mkdtempSync(join(tmpdir(), "amoc-stream-"));
  dirs.push(d);
  return join(d, "runs.sqlite");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const subjects = new Subjects("c1");

/** A bus with NATS's `*` token wildcard (the shared fake matches exact subjects only); delivery is asynchronous. */
class FakeNet {
  readonly log: Array<{ subject: string; data: string }> = [];
  private readonly subs: Array<{ re: RegExp; h: (data: string, respond: undefined) => void }> = [];
  bus() {
    return {
      publish: (subject: string, data: string) => {
        this.log.push({ subject, data });
        for (const s of this.subs) if (s.re.test(subject)) setImmediate(() => s.h(data, undefined));
      },
      subscribe: (subject: string, h: (data: string, respond: undefined) => void) => {
        const e = { re: new RegExp(`^${subject.replace(/\./g, "\\.").replace(/\*/g, "[^.]+")}$`), h };
        this.subs.push(e);
        return () => void this.subs.splice(this.subs.indexOf(e), 1);
      },
    };
  }
}

/** A worker: its telemetry, the run it is in, and its publisher on the fake bus. */
function worker(net: FakeNet, name: string) {
  const telemetry = new Telemetry();
  let runId: string | null = null;
  // a timer far away: the test ends intervals with close() (the last partial interval) only
  const pub = new ResultsPublisher({
    bus: net.bus(),
    subjects,
    telemetry,
    nodeName: name,
    intervalMs: 3_600_000,
    currentRunId: () => runId,
  });
  return {
    telemetry,
    pub,
    enter(id: string | null) {
      runId = id;
      pub.sync();
    },
    count(metric: string, n: number) {
      for (let i = 0; i < n; i++) telemetry.emit("metric", { kind: "count", name: metric, value: 1 });
    },
  };
}

describe("distributed results streaming", () => {
  it("publishes one versioned interval per worker on the run's subject, the partial one flushed at the run's end marked final", async () => {
    const net = new FakeNet();
    const w = worker(net, "w1");
    w.count("dummy.runs", 5);
    w.enter("r1");
    w.count("dummy.runs", 7);
    w.telemetry.emit("metric", { kind: "timing", name: "xmpp.message_ttd", value: 12 });
    expect(net.log).toHaveLength(0);
    w.enter(null);
    expect(net.log.map((m) => m.subject)).toEqual(["c1.results.r1"]);
    const msg = JSON.parse(net.log[0]!.data) as {
      runId: string;
      interval: { node: string; c: Record<string, number>; h: Record<string, string> };
    };
    expect(msg).toMatchObject({ v: 1, type: "results", from: "w1", runId: "r1", final: true });
    expect(w.pub.lastEnded).toBe("r1");
    expect(msg.interval.node).toBe("w1");
    expect(msg.interval.c["dummy.runs"]).toBe(7);
    expect(Object.keys(msg.interval.h)).toEqual(["xmpp.message_ttd"]);
    // about 2 KB per node per interval, not per event
    expect(net.log[0]!.data.length).toBeLessThan(4096);
    w.count("dummy.runs", 3);
    w.pub.close();
    expect(net.log).toHaveLength(1);
  });

  it("merges three workers' intervals on the master: the merged counts equal their sum", async () => {
    const net = new FakeNet();
    const feed = new ResultsFeed();
    const workers = ["w1", "w2", "w3"];
    // w4 is idle (in no run): the merge does not wait for it
    feed.connect({
      bus: net.bus(),
      subjects,
      workers: () => [...workers.map((name) => ({ name, runId: "r1" })), { name: "w4", runId: null }],
      onMembershipChange: () => {},
    });
    const path = tmpStore();
    const rec = recordRun({
      node: "m",
      storePath: path,
      intervalMs: 3_600_000,
      scenario: "dummy",
      settings: {},
      users: 3,
    });
    const unfollow = feed.follow(rec);
    const ws = workers.map((n) => worker(net, n));
    ws.forEach((w, k) => {
      w.enter("r1");
      w.count("dummy.runs", 10 * (k + 1));
    });
    for (const w of ws) w.enter(null);
    const store = RunStore.open(path, { readonly: true });
    try {
      await until(() => store.intervals(rec.runId).length === 3, 5000, "three intervals stored");
      // merged by the recorder as the third part arrived (not left for the reader)
      expect(rec.lastInterval()?.rates["dummy.runs"]).toBeGreaterThan(0);
      expect(store.unmergedIntervals(rec.runId)).toEqual([]);
      // all three parts of the slot arrived: merged at once, before the end
      expect(readRunResults(store, rec.runId).intervals.map((m) => [m.nodes.sort(), m.counters["dummy.runs"]])).toEqual(
        [[workers, 60]],
      );
    } finally {
      store.close();
    }
    unfollow();
    rec.end({ summary: {}, exitCode: 0 });
  });

  it("follows one run, ignores other runs' intervals and malformed messages", async () => {
    const net = new FakeNet();
    const feed = new ResultsFeed();
    feed.connect({
      bus: net.bus(),
      subjects,
      workers: () => [{ name: "w1", runId: "a" }],
      onMembershipChange: () => {},
    });
    const got: string[] = [];
    feed.follow({ addInterval: (i) => got.push(`${i.node}:${i.c.n}`), setNodes: () => {} });
    const bus = net.bus();
    const iv = (n: number) => JSON.stringify({ v: 1, node: "w1", t: 0, ms: 1000, c: { n }, g: {}, h: {} });
    bus.publish("c1.results.a", encodeResults("w1", "a", iv(1), false));
    bus.publish("c1.results.b", encodeResults("w1", "b", iv(2), false));
    bus.publish("c1.results.a", "not json");
    bus.publish("c1.results.a", encodeResults("w1", "a", `{"v":2}`, false));
    bus.publish("c1.results.a", `{"runId":"a","interval":${iv(4)}}`); // unversioned
    bus.publish("c1.results.a", encodeResults("w1", "a", iv(3), false));
    await until(() => got.length === 2, 5000, "two intervals");
    await new Promise((r) => setImmediate(r));
    expect(got).toEqual(["w1:1", "w1:3"]);
  });

  it("stops waiting for a node that went down: later intervals merge without it", () => {
    const path = tmpStore();
    const rec = recordRun({ node: "m", storePath: path, intervalMs: 1000, scenario: "dummy", settings: {}, users: 2 });
    rec.setNodes(["w1", "w2"]);
    const part = (node: string, t: number) => ({ v: 1 as const, node, t, ms: 1000, c: { n: 1 }, g: {}, h: {} });
    rec.addInterval(part("w1", 0));
    rec.addInterval(part("w2", 0));
    rec.addInterval(part("w1", 1000));
    expect(rec.lastInterval()?.t).toBe(0);
    rec.addEvent({ t: 1500, kind: "node_down", node: "m", data: { node: "w2" } });
    // w2's part of 1000 will not come: merged now
    expect(rec.lastInterval()).toMatchObject({ t: 1000, rates: { n: 1 } });
    rec.end({ summary: {}, exitCode: 0 });
    const store = RunStore.open(path, { readonly: true });
    try {
      const res = readRunResults(store, rec.runId);
      expect(res.intervals.map((m) => m.counters.n)).toEqual([2, 1]);
      expect(res.events.map((e) => e.kind)).toEqual(["node_down"]);
    } finally {
      store.close();
    }
  });

  it("a part that arrives after its time was merged (2 intervals late) still joins it: the merged counts stay the sum", () => {
    const path = tmpStore();
    const rec = recordRun({
      node: "m",
      storePath: path,
      intervalMs: 1000,
      scenario: "dummy",
      settings: {},
      users: 2,
      localIntervals: false,
    });
    rec.setNodes(["w1", "w2"]);
    const part = (node: string, t: number, n: number) => ({
      v: 1 as const,
      node,
      t,
      ms: 1000,
      c: { n },
      g: { "users.running": 1 },
      h: {},
    });
    rec.addInterval(part("w1", 0, 1));
    rec.addInterval(part("w1", 1000, 1));
    rec.addInterval(part("w1", 2000, 1));
    // time 0 merged without w2 (2 intervals old); w2's part comes now
    expect(rec.lastInterval()?.t).toBe(0);
    rec.addInterval(part("w2", 0, 5));
    rec.addInterval(part("w2", 1000, 5));
    rec.addInterval(part("w2", 2000, 5));
    rec.end({ summary: {}, exitCode: 0 });
    const store = RunStore.open(path, { readonly: true });
    try {
      const res = readRunResults(store, rec.runId);
      expect(res.intervals.map((m) => [m.t, m.counters.n, m.gauges["users.running"]])).toEqual([
        [0, 6, 2],
        [1000, 6, 2],
        [2000, 6, 2],
      ]);
      expect(res.table.n).toMatchObject({ count: 18 });
    } finally {
      store.close();
    }
  });
});
