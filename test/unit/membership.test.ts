import { afterEach, describe, expect, it } from "vitest";
import { Membership } from "../../src/cluster/membership.js";
import type { Heartbeat } from "../../src/cluster/protocol.js";
import { FakeNet } from "../helpers/fake-bus.js";
import { memoryLogger, subjects } from "../helpers/fake-cluster.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { until } from "../helpers/wait.js";

const started: Membership[] = [];
afterEach(() => {
  for (const m of started.splice(0)) m.stop();
});

function member(net: FakeNet, name: string, boot = "b1", clock?: FakeClock) {
  const { log, lines } = memoryLogger();
  const hb = (): Heartbeat => ({
    v: 1,
    type: "heartbeat",
    from: name,
    role: "worker",
    boot,
    labels: {},
    runId: null,
    state: "idle",
    running: 0,
  });
  const m = new Membership(net.bus(), subjects, hb, log, clock ? { intervalMs: 1000, clock } : { intervalMs: 50 });
  started.push(m);
  const events: string[] = [];
  m.onUp((n) => events.push(`up:${n}`));
  m.onDown((n) => events.push(`down:${n}`));
  m.onLeft((n) => events.push(`left:${n}`));
  return { m, lines, events };
}

/** Members a and b (b of boot `bootB`) on a fresh net, both beating, once a sees b. */
async function beatingPair(bootB?: string) {
  const net = new FakeNet();
  const a = member(net, "a");
  const b = member(net, "b", bootB);
  for (const x of [a, b]) x.m.start();
  for (const x of [a, b]) x.m.startBeating();
  await until(() => a.m.isAlive("b"), 2000, "a sees b");
  return { net, a, b };
}

describe("Membership on an in-memory bus", () => {
  it("on fake time, a node whose last beat was at 1 s is alive at 4 s and down at the first sweep after 3 missed beats (4.25 s)", async () => {
    const net = new FakeNet();
    const clock = new FakeClock(0);
    const a = member(net, "a", "b1", clock);
    const b = member(net, "b", "b1", clock);
    for (const x of [a, b]) x.m.start();
    for (const x of [a, b]) x.m.startBeating();
    await clock.advance(1000);
    expect(a.m.isAlive("b")).toBe(true);
    b.m.stop(); // no goodbye after its beat at 1 s: like kill -9
    await clock.advance(3000);
    expect(a.m.isAlive("b")).toBe(true);
    expect(a.events.filter((e) => e.endsWith(":b"))).toEqual(["up:b"]);
    await clock.advance(250);
    expect(a.m.isAlive("b")).toBe(false);
    expect(a.events.filter((e) => e.endsWith(":b"))).toEqual(["up:b", "down:b"]);
    expect(a.lines).toContainEqual(
      expect.objectContaining({ level: 40, msg: "node_down", node: "b", last_seen_ms_ago: 3250 }),
    );
  });

  it("a node that leaves normally is logged as left, never as node_down", async () => {
    const { a, b } = await beatingPair();
    b.m.stop();
    b.m.leave();
    await until(() => !a.m.isAlive("b"), 2000, "b gone");
    await a.m.settled(); // a whole down window passes: a silent node would now be down
    expect(a.events.filter((e) => e.endsWith(":b"))).toEqual(["up:b", "left:b"]);
    expect(a.lines.filter((l) => l.msg === "node_left")).toEqual([expect.objectContaining({ level: 30, node: "b" })]);
    expect(a.lines.some((l) => l.msg === "node_down")).toBe(false);
  });

  it("a node that goes silent is down after its missed beats, with a warning", async () => {
    const { a, b } = await beatingPair();
    b.m.stop(); // no goodbye: like kill -9
    await until(() => a.events.includes("down:b"), 2000, "b down");
    expect(a.lines).toContainEqual(expect.objectContaining({ level: 40, msg: "node_down", node: "b" }));
  });

  it("a goodbye from an earlier process under a name does not remove the one alive now", async () => {
    const { net, a } = await beatingPair("boot2");
    const old: Heartbeat = {
      v: 1,
      type: "heartbeat",
      from: "b",
      role: "worker",
      boot: "boot1",
      labels: {},
      runId: null,
      state: "idle",
      running: 0,
      leaving: true,
    };
    net.bus().publish(subjects.heartbeat(), JSON.stringify(old));
    await until(() => net.log.some((m) => m.data.includes('"leaving":true')), 2000, "the stale goodbye sent");
    await new Promise((r) => setImmediate(r));
    expect(a.m.isAlive("b")).toBe(true);
    expect(a.events.filter((e) => e.endsWith(":b"))).toEqual(["up:b"]);
  });
});

describe("Membership with two processes under one name", () => {
  const beat = (boot: string): Heartbeat => ({
    v: 1,
    type: "heartbeat",
    from: "b",
    role: "worker",
    boot,
    labels: {},
    runId: null,
    state: "idle",
    running: 0,
  });

  it("one beat with another boot ID does not make a live node down and up again: it is reported as a duplicate name", async () => {
    const net = new FakeNet();
    const a = member(net, "a");
    const b = member(net, "b", "boot1");
    const dups: string[] = [];
    a.m.onDuplicate((name, boot, other) => dups.push(`${name}:${boot}:${other}`));
    for (const x of [a, b]) x.m.start();
    for (const x of [a, b]) x.m.startBeating();
    await until(() => a.m.isAlive("b"), 2000, "a sees b");
    net.bus().publish(subjects.heartbeat(), JSON.stringify(beat("forged")));
    await until(() => dups.length > 0, 2000, "the forged beat reported");
    expect(dups[0]).toBe("b:boot1:forged");
    expect(a.m.get("b")?.boot).toBe("boot1");
    expect(a.events.filter((e) => e.endsWith(":b"))).toEqual(["up:b"]);
    expect(a.lines).toContainEqual(
      expect.objectContaining({ msg: "duplicate_node_name", node: "b", boot: "boot1", other_boot: "forged" }),
    );
  });

  it("a restart under the same name is believed once the old process has been silent for the down window", async () => {
    const net = new FakeNet();
    const a = member(net, "a");
    const b1 = member(net, "b", "boot1");
    for (const x of [a, b1]) x.m.start();
    for (const x of [a, b1]) x.m.startBeating();
    await until(() => a.m.isAlive("b"), 2000, "a sees b");
    b1.m.stop();
    const b2 = member(net, "b", "boot2");
    b2.m.start();
    b2.m.startBeating();
    await until(() => a.m.get("b")?.boot === "boot2", 3000, "a believes the new process");
    expect(a.events.filter((e) => e.endsWith(":b"))).toEqual(["up:b", "down:b", "up:b"]);
  });

  it("a node that hears its own name with another boot ID after joining logs the duplicate", async () => {
    const net = new FakeNet();
    const b = member(net, "b", "boot1");
    b.m.start();
    b.m.startBeating();
    net.bus().publish(subjects.heartbeat(), JSON.stringify(beat("boot2")));
    await until(() => b.lines.some((l) => l.msg === "duplicate_node_name"), 2000, "the duplicate logged");
    expect(b.m.nameClash).toMatch(/another node already runs as 'b'/);
  });
});

describe("Membership when this node's own event loop stalls", () => {
  it("beats queued while this node was blocked are read before anyone is judged down", async () => {
    const net = new FakeNet();
    const a = member(net, "a");
    a.m.start();
    const beat = (): Heartbeat => ({
      v: 1,
      type: "heartbeat",
      from: "b",
      role: "worker",
      boot: "b1",
      labels: {},
      runId: null,
      state: "idle",
      running: 0,
    });
    const beats = setInterval(() => net.bus().publish(subjects.heartbeat(), JSON.stringify(beat())), 50);
    try {
      await until(() => a.m.isAlive("b"), 2000, "a sees b");
      // block for longer than the down window (150 ms); b's next beat lands behind a's overdue sweep timer
      const end = Date.now() + 400;
      while (Date.now() < end) {
        /* a stalled event loop */
      }
      await new Promise((r) => setTimeout(r, 0));
      await until(() => a.m.get("b")!.lastSeenMs > end, 2000, "b's queued beat read");
      expect(a.events.filter((e) => e.endsWith(":b"))).toEqual(["up:b"]);
      expect(a.lines.some((l) => l.msg === "node_down")).toBe(false);
    } finally {
      clearInterval(beats);
    }
  });

  it("a node never judges itself down", async () => {
    const net = new FakeNet();
    const a = member(net, "a");
    a.m.start();
    a.m.startBeating();
    await until(() => a.m.isAlive("a"), 2000, "a sees itself");
    a.m.stop();
    a.m.start(); // sweeping again, no longer beating
    await a.m.settled();
    expect(a.events).toEqual(["up:a"]);
  });
});
