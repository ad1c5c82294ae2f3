/** The dashboard's live feed over a scripted Node API: one frame per tick, rates, run events, down nodes, window. */
import { describe, expect, it } from "vitest";
import type { EncodedInterval } from "../../src/results/interval.js";
import { Histogram } from "../../src/results/histogram.js";
import { IntervalWindow } from "../../src/api/web/interval-window.js";
import { LiveFeed, type Frame } from "../../src/api/web/live-feed.js";
import type { ApiStatus, NodeInfo, WatchEvent } from "../../src/node/node-api.js";

type Users = { running: number; started: number; crashed: number; removed: number; pending: number };

/** A cluster whose status the test sets before each tick. */
class Script {
  members: NodeInfo[] = [
    { name: "w1", role: "worker", labels: { zone: "a" }, state: "idle", running: 0 },
    { name: "w2", role: "worker", labels: {}, state: "idle", running: 0 },
  ];
  run: ApiStatus["run"] = null;
  users: Users = { running: 0, started: 0, crashed: 0, removed: 0, pending: 0 };
  statusCalls = 0;
  /** The process each worker's health names (`host:pid`). */
  processOf: Record<string, string> = {};
  readonly mode = "dist" as const;
  readonly nodeName = "m";
  async status(): Promise<ApiStatus> {
    this.statusCalls++;
    const per = (n: NodeInfo) => ({
      ok: true as const,
      result: {
        node: n.name,
        state: n.state,
        users: { ...this.users, running: this.users.running / 2 },
        errors: [{ reason: "start:error: boom", phase: "start", message: "boom", count: this.users.crashed }],
        health: {
          loop_lag_p99_ms: 1,
          loop_lag_max_ms: 2,
          cpu_pct: 3,
          rss_mb: 4,
          open_files: 5,
          process: this.processOf[n.name] ?? `other:${n.name}`,
        },
      },
    });
    return {
      mode: "dist",
      run: this.run,
      users: { ...this.users, finished: 0, removing: 0 },
      nodes: Object.fromEntries(this.members.map((n) => [n.name, per(n)])) as unknown as ApiStatus["nodes"],
    };
  }
  async nodes(): Promise<NodeInfo[]> {
    return this.members;
  }
  /** The Node API's watch stream: the test pushes intervals with `push`. */
  watchers = new Set<(e: WatchEvent) => void>();
  watchCalls = 0;
  watch(fn: (e: WatchEvent) => void): () => void {
    this.watchCalls++;
    this.watchers.add(fn);
    return () => void this.watchers.delete(fn);
  }
  push(i: EncodedInterval): void {
    for (const w of this.watchers) w({ type: "interval", interval: i });
  }
  tell(e: WatchEvent): void {
    for (const w of this.watchers) w(e);
  }
}

/** One node's interval at `t` with `ttd` timings (ms) and `sent` messages. */
function interval(node: string, t: number, ttd: number[], sent: number): EncodedInterval {
  const h = new Histogram();
  for (const v of ttd) h.recordMs(v);
  return { v: 1, node, t, ms: 1000, c: { "xmpp.messages_sent": sent }, g: {}, h: { "xmpp.message_ttd": h.encode() } };
}

function setup(windowMs = 60_000) {
  const s = new Script();
  let t = 1_000_000;
  const feed = new LiveFeed({
    api: s,
    health: () => ({ loop_lag_p99_ms: 0, loop_lag_max_ms: 0, cpu_pct: 91.9, rss_mb: 1, open_files: 1, process: "h:1" }),
    windowMs,
    now: () => t,
  });
  const tick = async (dtMs = 1000) => {
    t += dtMs;
    return (await feed.tick()) as Frame;
  };
  return { s, feed, tick, now: () => t };
}

describe("LiveFeed", () => {
  it("turns user counts into per-second rates, and has no timings or message rate before an interval arrives", async () => {
    const { s, tick } = setup();
    s.run = { run_id: "r1", state: "running", scenario: "dummy", settings: {} };
    await tick();
    s.users = { running: 40, started: 40, crashed: 2, removed: 0, pending: 0 };
    const f = await tick(2000);
    expect(f.rates).toEqual({ arrivals: 20, crashes: 1, messages: 0 });
    expect(f.series).toBe("none");
    expect(f.timings).toEqual({ connection: null, ttd: null });
    expect(f.crash_reasons).toEqual({ "start:error: boom": 4 });
    expect(f.nodes.find((n) => n.name === "w1")).toMatchObject({
      running: 20,
      labels: { zone: "a" },
      health: { rss_mb: 4 },
    });
    expect(f.nodes.find((n) => n.name === "m")).toMatchObject({ role: "master", health: { rss_mb: 1 } });
  });

  it("shows one sample of a process in every row it answers for: a worker in the serving process reads the master's figures", async () => {
    const { s, tick } = setup();
    s.processOf = { w1: "h:1" };
    const f = await tick();
    const row = (name: string) => f.nodes.find((n) => n.name === name)?.health;
    expect(row("w1")).toEqual(row("m"));
    expect(row("w1")?.cpu_pct).toBe(91.9);
    // a worker in another process keeps its own figures
    expect(row("w2")?.cpu_pct).toBe(3);
  });

  it("marks start, add, remove and stop as run events", async () => {
    const { s, tick } = setup();
    await tick();
    s.run = { run_id: "r1", state: "running", scenario: "dummy", settings: {}, last_id: 100 } as ApiStatus["run"];
    expect((await tick()).events.map((e) => e.kind)).toEqual(["start"]);
    s.run = { ...s.run!, last_id: 150 } as ApiStatus["run"];
    expect((await tick()).events.map((e) => e.text)).toEqual(["add 50"]);
    s.users = { ...s.users, removed: 20 };
    expect((await tick()).events.map((e) => e.text)).toEqual(["remove 20"]);
    s.run = { ...s.run!, state: "finished" };
    expect((await tick()).events.map((e) => e.kind)).toEqual(["stop"]);
  });

  it("marks a threshold breach the watch stream reports on the next frame, once", async () => {
    const { s, feed, tick } = setup();
    const off = feed.subscribe(() => {});
    await new Promise((r) => setImmediate(r));
    await tick();
    s.tell({
      type: "event",
      event: {
        t: 5,
        kind: "threshold_breach",
        node: "m",
        data: { message: "xmpp.message_ttd.p99 was 80, wanted < 50" },
      },
    });
    s.tell({ type: "event", event: { t: 6, kind: "add", node: "m", data: {} } });
    expect((await tick()).events).toEqual([{ t: 5, kind: "breach", text: "xmpp.message_ttd.p99 was 80, wanted < 50" }]);
    expect((await tick()).events).toEqual([]);
    off();
  });

  it("keeps a node that stopped beating listed as down, and says so once", async () => {
    const { s, tick } = setup();
    await tick();
    s.members = s.members.filter((n) => n.name !== "w2");
    const f = await tick();
    expect(f.nodes.find((n) => n.name === "w2")).toMatchObject({ state: "down", error: "no heartbeat" });
    expect(f.events).toEqual([expect.objectContaining({ kind: "node_down", text: "w2 down" })]);
    expect((await tick()).events).toEqual([]);
  });

  it("samples once per tick for any number of listeners and keeps only the window", async () => {
    const { s, feed, tick } = setup(5000);
    const got: number[] = [];
    const off1 = feed.subscribe((f) => got.push(f.t));
    const off2 = feed.subscribe((f) => got.push(f.t));
    await new Promise((r) => setImmediate(r));
    const calls = s.statusCalls;
    for (let i = 0; i < 10; i++) await tick();
    expect(s.statusCalls - calls).toBe(10);
    expect(got.length).toBe(2 * (10 + calls));
    expect(feed.history().length).toBe(6);
    off1();
    off2();
  });

  it("repeats the last frame with the error when status fails", async () => {
    const { s, tick } = setup();
    await tick();
    s.status = async () => {
      throw new Error("NATS is down");
    };
    const f = await tick();
    expect(f.error).toBe("NATS is down");
    expect(f.nodes.length).toBe(3);
  });
});

describe("per-interval results", () => {
  it("merges the nodes' parts of the newest complete interval: percentiles of that second, not averages", () => {
    const w = new IntervalWindow(() => 2);
    w.add(interval("w1", 1000, [1, 1, 1, 1], 10));
    expect(w.latest(2100)).toBeUndefined();
    w.add(interval("w2", 1000, [100, 100, 100, 100], 30));
    const m = w.latest(2100)!;
    expect(m.rates["xmpp.messages_sent"]).toBe(40);
    expect(m.timings["xmpp.message_ttd"]!.p50).toBeCloseTo(1, 0);
    expect(m.timings["xmpp.message_ttd"]!.p99).toBeCloseTo(100, -1);
    // a node that sends nothing: the interval is merged without it after the grace period
    w.add(interval("w1", 2000, [5], 3));
    expect(w.latest(3100)!.t).toBe(1000);
    expect(w.latest(4600)).toMatchObject({ t: 2000, rates: { "xmpp.messages_sent": 3 } });
  });

  it("frames take their timings and message rate from the watched intervals while they arrive, and drop them at a new run", async () => {
    const { s, feed, tick, now } = setup(60_000);
    const off = feed.subscribe(() => {});
    expect(s.watchCalls).toBe(1);
    await new Promise((r) => setImmediate(r)); // the first sample, taken at subscribe
    s.run = { run_id: "r1", state: "running", scenario: "dummy", settings: {} };
    const f0 = await tick();
    expect(f0.series).toBe("none");
    expect(f0.timings.ttd).toBeNull();
    const t = Math.floor(now() / 1000) * 1000;
    s.push(interval("w1", t, [7], 5));
    s.push(interval("w2", t, [7], 5));
    const f1 = await tick(1000);
    expect(f1.series).toBe("intervals");
    expect(f1.timings.ttd?.p50).toBeCloseTo(7, 0);
    expect(f1.rates.messages).toBe(10);
    s.run = { run_id: "r2", state: "running", scenario: "dummy", settings: {} };
    const f2 = await tick(1000);
    expect(f2.series).toBe("none");
    // one watch for the whole time a page listens, released when the last leaves
    expect(s.watchCalls).toBe(1);
    off();
    expect(s.watchers.size).toBe(0);
  });

  it("carries the server under test's last sampling in every frame of its run, and none in the next run's", async () => {
    const { s, feed, tick } = setup();
    const off = feed.subscribe(() => {});
    await new Promise((r) => setImmediate(r));
    s.run = { run_id: "r1", state: "running", scenario: "dummy", settings: {} };
    expect((await tick()).server).toBeUndefined();
    s.tell({ type: "sut", sample: { t: 1, values: { "sut.sessions": 40, "sut.process_cpu": 0.25 } } });
    expect((await tick()).server).toEqual({ "sut.sessions": 40, "sut.process_cpu": 0.25 });
    expect((await tick()).server).toEqual({ "sut.sessions": 40, "sut.process_cpu": 0.25 });
    s.run = { run_id: "r2", state: "running", scenario: "dummy", settings: {} };
    expect((await tick()).server).toBeUndefined();
    off();
  });
});
