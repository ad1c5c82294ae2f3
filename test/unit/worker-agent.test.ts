import { afterEach, describe, expect, it } from "vitest";
import { COMMAND_TYPES, address, decode, encode, type Command, type Reply } from "../../src/cluster/protocol.js";
import { FakeNet } from "../helpers/fake-bus.js";
import { fakeNode, subjects, type FakeNode } from "../helpers/fake-cluster.js";
import { until } from "../helpers/wait.js";

const nodes: FakeNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) {
    await n.crash();
    if (n.controller.state === "running") await n.controller.stop();
  }
});

async function worker(net: FakeNet, name = "w1"): Promise<FakeNode> {
  const n = await fakeNode(net, name, "worker");
  nodes.push(n);
  return n;
}

/** Sends a command to `node` as a master would and returns the decoded reply. */
async function send(net: FakeNet, node: string, cmd: Omit<Command, "v" | "from">): Promise<Reply> {
  const raw = await net
    .bus()
    .request(
      subjects.command(node),
      encode(address({ v: 1, from: "m1", ...cmd } as Command, subjects.cluster, "b1")),
      2000,
    );
  const r = decode<Reply>(raw, ["reply"]);
  if (!r.ok) throw new Error(r.reason);
  return r.msg;
}
/** Prepares run r1 of users that hold their place and starts `ids` on w1 at once. */
async function holdUsers(net: FakeNet, ids: { from: number; to: number; step: number; offset: number }): Promise<void> {
  const settings = { interarrival: 0, repeat_num: 1, delay_ms: 600_000 };
  await send(net, "w1", { type: "prepare", runId: "r1", scenario: "lifecycle", settings } as never);
  const plan = { ...ids, t0Ms: 0, baseId: 1, interarrivalMs: 0 };
  await send(net, "w1", { type: "start", runId: "r1", plans: [plan] } as never);
}
const result = (r: Reply) => (r.ok ? (r.result as Record<string, unknown>) : { error: r.error.message });

describe("WorkerAgent on an in-memory bus", () => {
  it("a failed bucket read while joining is logged once with what it affects and reported in status", async () => {
    const net = new FakeNet();
    net.kv.failGet = (key) => key === subjects.runKey();
    const w = await worker(net);
    const st = result(await send(net, "w1", { type: "status" } as never));
    expect(st.problems).toEqual([
      expect.objectContaining({
        kind: "join_run_read_failed",
        count: 1,
        affects: expect.stringMatching(/joins none now/) as unknown,
      }),
    ]);
    expect(w.lines.filter((l) => l.msg === "join_run_read_failed")).toHaveLength(1);
  });

  it("a subscription error of the bus shows in the worker's status problems", async () => {
    const net = new FakeNet();
    const w = await worker(net);
    w.bus.subscriptionErrors.push({ subject: "fake.cmd.w1", error: "permissions violation", count: 2 });
    const st = result(await send(net, "w1", { type: "status" } as never));
    expect(st.problems).toContainEqual(
      expect.objectContaining({
        kind: "nats_subscription_error",
        message: "fake.cmd.w1: permissions violation",
        count: 2,
      }),
    );
  });

  it("the stop reply carries counts, not histograms, and goes out after the run's final results interval", async () => {
    const net = new FakeNet();
    const w = await worker(net);
    const r = await send(net, "w1", {
      type: "prepare",
      runId: "r1",
      scenario: "lifecycle",
      settings: { interarrival: 0, repeat_num: 1 },
    } as never);
    expect(r.ok).toBe(true);
    w.telemetry.emit("metric", { kind: "timing", name: "xmpp.connection", value: 12 });
    w.telemetry.emit("metric", { kind: "count", name: "xmpp.messages_sent", value: 3 });
    const stopped = result(await send(net, "w1", { type: "stop", runId: "r1" } as never));
    expect(stopped).toMatchObject({ run_id: null, final_interval: true, users: { started: 0 } });
    expect(Object.keys(stopped)).not.toContain("summary");
    const sent = net.log.filter((m) => m.subject === subjects.results("r1") || m.data.includes('"type":"stop"'));
    // the stop command, then the final interval; the reply is answered after it (no later interval exists)
    expect(sent.map((m) => (m.subject === subjects.results("r1") ? "results" : "stop"))).toEqual(["stop", "results"]);
    const last = JSON.parse(sent[1]!.data) as { final: boolean; interval: { c: Record<string, number>; h: object } };
    expect(last.final).toBe(true);
    expect(last.interval.c["xmpp.messages_sent"]).toBe(3);
    expect(Object.keys(last.interval.h)).toContain("xmpp.connection");
  });

  it("top_ids answers ranges and remove_ids takes ranges: 3,000 users, two short messages", async () => {
    const net = new FakeNet();
    const w = await worker(net);
    await holdUsers(net, { from: 1, to: 9000, step: 3, offset: 1 });
    await until(() => w.controller.status().users.running === 3000, 5000, "3000 running");
    const top = result(await send(net, "w1", { type: "top_ids", runId: "r1", n: 1000, force: true } as never));
    expect(top).toEqual({ count: 1000, ranges: [{ first: 6002, last: 8999, step: 3 }], escalate: [] });
    const rm = result(
      await send(net, "w1", { type: "remove_ids", runId: "r1", ranges: top.ranges, force: true } as never),
    );
    expect(rm).toEqual({ removed: 1000 });
    await until(() => w.controller.status().users.running === 2000, 5000, "2000 running");
    expect(
      Math.max(...net.log.filter((m) => m.subject === subjects.command("w1")).map((m) => m.data.length)),
    ).toBeLessThan(300);
    const huge = await send(net, "w1", {
      type: "remove_ids",
      runId: "r1",
      ranges: [{ first: 1, last: 1e12, step: 1 }],
      force: true,
    } as never);
    expect(huge).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/more than the 10000000 one command may/) as unknown },
    });
  });

  it("leaving stops this worker's users itself and records what ended", async () => {
    const net = new FakeNet();
    const w = await worker(net);
    await holdUsers(net, { from: 1, to: 10, step: 1, offset: 0 });
    await until(() => w.controller.status().users.running === 10, 5000, "10 running");
    await w.leave();
    expect(w.controller.state).toBe("finished");
    expect(net.kv.peek(subjects.endedKey("r1", "w1"))).toMatch(/"count":10/);
    expect(COMMAND_TYPES).toContain("stop");
  });

  it("a prepare that names a path, or a mix that does, is refused and loads nothing", async () => {
    const net = new FakeNet();
    const w = await worker(net);
    const byPath = await send(net, "w1", {
      type: "prepare",
      runId: "r1",
      scenario: "/tmp/evil.ts",
      settings: {},
    } as never);
    expect(byPath).toMatchObject({
      ok: false,
      error: {
        code: "CLUSTER_PROTOCOL",
        message: expect.stringMatching(/scenario must be a scenario name, not a path/) as unknown,
      },
    });
    const byMix = await send(net, "w1", {
      type: "prepare",
      runId: "r1",
      scenario: "lifecycle",
      settings: { mix: { "/tmp/evil": 1 } },
    } as never);
    expect(byMix).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/'\/tmp\/evil' is not a scenario name/) as unknown },
    });
    const byVersion = await send(net, "w1", {
      type: "prepare",
      runId: "r1",
      scenario: "lifecycle",
      settings: {},
      version: "0123456789abcdef",
    } as never);
    expect(byVersion).toMatchObject({ ok: false, error: { code: "SCENARIO_NOT_FOUND" } });
    expect(w.controller.state).toBe("idle");
  });

  it("a command of another cluster or for another process of this name gets no reply, and is logged once", async () => {
    const net = new FakeNet();
    const w = await worker(net);
    const stop = (m: object) =>
      encode({ ...address({ v: 1, type: "status", from: "m1" }, subjects.cluster, "b1"), ...m });
    for (let i = 0; i < 3; i++) {
      await expect(net.bus().request(subjects.command("w1"), stop({ cluster: "other" }), 100)).rejects.toThrow(
        /no reply/,
      );
      await expect(net.bus().request(subjects.command("w1"), stop({ to: "b2" }), 100)).rejects.toThrow(/no reply/);
    }
    const ignored = w.lines.filter((l) => l.msg === "command_ignored");
    expect(ignored).toHaveLength(2);
    expect(ignored.map((l) => l.reason)).toEqual([
      expect.stringMatching(/cluster "other"/),
      expect.stringMatching(/addressed to process "b2"/),
    ]);
    expect((await send(net, "w1", { type: "status" } as never)).ok).toBe(true);
  });
});
