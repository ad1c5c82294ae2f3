/**
 * Distributed mode against a real 3-node NATS cluster, with real `bin/amoc worker` processes and an in-process
 * master. Each describe block is its own cluster (its own cluster_name, workers and run), so one failure never
 * cascades into the next; they share only the NATS servers (the restart block has its own).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { joinCluster } from "../../src/cluster/cluster-node.js";
import { resultsFeed } from "../../src/cluster/results-feed.js";
import type { EncodedInterval } from "../../src/results/interval.js";
import { Subjects } from "../../src/cluster/subjects.js";
import { AmocError } from "../../src/errors.js";
import { NatsCluster } from "../helpers/nats-cluster.js";
import { TestCluster } from "../helpers/test-cluster.js";
import { untilAsync } from "../helpers/wait.js";

let shared: NatsCluster;

beforeAll(async () => {
  shared = await NatsCluster.start(3);
}, 120_000);
afterAll(async () => {
  await shared?.stop();
});

const HOLD = { interarrival: 0, dummy_sleep_ms: 200, repeat_interval: 50 };

describe("dealing a run", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await new TestCluster(shared).start(["w1", "w2", "w3"]);
  }, 120_000);
  afterAll(() => c?.close());

  it("do(1..3000) gives each of 3 workers exactly 1000 users whose IDs are congruent mod 3", async () => {
    c.runId = (await c.handle.master!.do("dummy", 1, 3000, { settings: HOLD })).run_id as string;
    await untilAsync(async () => (await c.status()).users.running === 3000, 15_000, "3000 running");
    const residues = new Set<number>();
    for (const w of ["w1", "w2", "w3"]) {
      const ids = await c.idsOf(w);
      expect(ids).toHaveLength(1000);
      const r0 = ids[0]! % 3;
      expect(ids.every((id) => id % 3 === r0)).toBe(true);
      residues.add(r0);
    }
    expect(residues.size).toBe(3);
  });
});

describe("adding users", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await new TestCluster(shared).start(["w1", "w2", "w3"], { to: 3000, settings: HOLD });
  }, 120_000);
  afterAll(() => c?.close());

  it("add(300) gives each worker 100 more, 1100 each", async () => {
    const r = await c.handle.master!.add(300);
    expect(r).toMatchObject({ from: 3001, to: 3300, failed: [] });
    await untilAsync(async () => (await c.status()).users.running === 3300, 15_000, "3300 running");
    for (const w of ["w1", "w2", "w3"]) expect(await c.idsOf(w)).toHaveLength(1100);
  });
});

describe("removing users", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await new TestCluster(shared).start(["w1", "w2", "w3"], { to: 3300, settings: HOLD });
  }, 120_000);
  afterAll(() => c?.close());

  it("remove(30) removes IDs 3271..3300, the 30 highest cluster-wide", async () => {
    const r = await c.handle.master!.remove(30);
    expect(r).toMatchObject({ requested: 30, removed: 30, ids: [3271, 3300] });
    await untilAsync(async () => (await c.status()).users.running === 3270, 15_000, "3270 running");
    const all = (await Promise.all(["w1", "w2", "w3"].map((w) => c.idsOf(w)))).flat();
    expect(Math.max(...all)).toBe(3270);
  });
});

describe("a worker killed", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await new TestCluster(shared).start(["w1", "w2", "w3"], { to: 3270, settings: HOLD });
  }, 120_000);
  afterAll(() => c?.close());

  it("kill -9 of a worker: it shows down within 5 s and its users run again on the others, same IDs", async () => {
    const before = new Set((await Promise.all(["w1", "w2", "w3"].map((w) => c.idsOf(w)))).flat());
    const t0 = Date.now();
    c.workers.get("w2")!.kill("SIGKILL");
    await untilAsync(
      async () => (await c.status()).nodes.w2?.error?.startsWith("down") === true,
      5000,
      "w2 reported down",
    );
    const downMs = Date.now() - t0;
    await untilAsync(async () => (await c.status()).users.running === 3270, 10_000, "running restored");
    const after = (await Promise.all(["w1", "w3"].map((w) => c.idsOf(w)))).flat();
    expect(after).toHaveLength(3270);
    expect(new Set(after)).toEqual(before);
    process.stderr.write(`[cluster.test] w2 down after ${downMs} ms, users restored after ${Date.now() - t0} ms\n`);
  });
});

describe("a worker that leaves normally", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await new TestCluster(shared).start(["w1", "w2"], { to: 100, settings: HOLD });
  }, 120_000);
  afterAll(() => c?.close());

  it("is listed as left, not down, and its users are not re-dealt (it stopped them itself)", async () => {
    const downs: string[] = [];
    c.handle.membership.onDown((n) => downs.push(n));
    c.workers.get("w2")!.kill("SIGTERM");
    await untilAsync(
      async () => (await c.status()).run?.left_nodes.includes("w2") === true,
      10_000,
      "w2 recorded as left",
    );
    const st = await c.status();
    expect(st.nodes.w2).toMatchObject({ ok: true, result: { state: "left" } });
    expect(st.run?.lost_nodes).toEqual([]);
    expect(st.users.running).toBe(50);
    expect(downs).toEqual([]);
  });
});

describe("a restarted NATS cluster member", () => {
  let own: NatsCluster;
  let c: TestCluster;
  beforeAll(async () => {
    own = await NatsCluster.start(3);
    c = await new TestCluster(own).start(["w1", "w2"], { to: 200, settings: HOLD });
  }, 120_000);
  afterAll(async () => {
    await c?.close();
    await own?.stop();
  });

  it("does not stop the run", async () => {
    await own.restart(0);
    expect((await c.status()).users.running).toBe(200);
    expect(await c.handle.master!.add(2)).toMatchObject({ from: 201, to: 202 });
    await untilAsync(async () => (await c.status()).users.running === 202, 15_000, "202 running");
  });
});

describe("a late joiner", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await new TestCluster(shared).start(["w1", "w2"], { to: 200, settings: HOLD });
  }, 120_000);
  afterAll(() => c?.close());

  it("gets 0 users, then its share of the next add", async () => {
    c.startWorker("w3");
    await untilAsync(async () => (await c.status()).nodes.w3?.result?.run_id === c.runId, 20_000, "w3 joined the run");
    expect((await c.status()).nodes.w3?.result?.users.running).toBe(0);
    await c.handle.master!.add(9);
    await untilAsync(async () => (await c.status()).nodes.w3?.result?.users.running === 3, 15_000, "w3 running 3");
    expect(await c.idsOf("w3")).toHaveLength(3);
  });
});

describe("distributed metrics", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await new TestCluster(shared).start(["w1", "w2", "w3"]);
  }, 120_000);
  afterAll(() => c?.close());

  it("every worker's final interval reaches the results feed before stop returns: counters sum over the workers", async () => {
    const got: EncodedInterval[] = [];
    const unfollow = resultsFeed(c.node.telemetry).follow({ addInterval: (i) => got.push(i), setNodes: () => {} });
    await c.handle.master!.do("dummy", 1, 30, {
      settings: { interarrival: 0, dummy_sleep_ms: 0, repeat_num: 2, repeat_interval: 0 },
    });
    await untilAsync(async () => (await c.status()).users.finished === 30, 15_000, "30 finished");
    const st = await c.handle.master!.stop();
    unfollow();
    expect(st.failed).toEqual([]);
    const runs = got.reduce((n, i) => n + (i.c["dummy.runs"] ?? 0), 0);
    expect(runs).toBe(60);
    expect(Object.keys(st.nodes).sort()).toEqual(["w1", "w2", "w3"]);
  });
});

describe("protocol hygiene", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await new TestCluster(shared).start(["w1"], { to: 10, settings: HOLD });
  }, 120_000);
  afterAll(() => c?.close());

  it("malformed messages on a command subject are rejected with a reason and the node goes on", async () => {
    const subject = new Subjects(c.name).command("w1");
    const boot = c.handle.membership.get("w1")!.boot;
    for (const bad of [
      "garbage",
      JSON.stringify({
        v: 1,
        type: "start",
        from: "evil",
        cluster: c.name,
        to: boot,
        runId: c.runId,
        plans: [{ from: "x" }],
      }),
    ]) {
      const reply = JSON.parse(await c.handle.bus.request(subject, bad, 5000)) as {
        ok: boolean;
        error: { message: string };
      };
      expect(reply.ok).toBe(false);
      expect(reply.error.message).toMatch(/^rejected: /);
    }
    // not for this worker (another protocol version, another cluster, another process of its name): no answer at all
    for (const other of [
      { v: 9, cluster: c.name, to: boot },
      { v: 1, cluster: "other", to: boot },
      { v: 1, cluster: c.name, to: "another" },
    ]) {
      await expect(
        c.handle.bus.request(subject, JSON.stringify({ type: "stop", from: "evil", runId: c.runId, ...other }), 500),
      ).rejects.toThrow(/no reply/);
    }
    expect((await c.status()).nodes.w1?.result?.users.running).toBe(10);
  });

  it("a node cannot join under the name of a live node", async () => {
    await expect(joinCluster(c.extraNode("w1"), "worker")).rejects.toThrow(/another node already runs as 'w1'/);
    expect((await c.status()).nodes.w1?.ok).toBe(true);
  });

  it("a second master cannot start another run while one is in progress", async () => {
    const other = c.extraNode("master2");
    const h2 = await joinCluster(other, "master");
    other.onClose(() => h2.close());
    await expect(h2.master!.do("dummy", 1, 10)).rejects.toMatchObject({ code: "CLUSTER_BUSY" });
    await expect(h2.master!.add(1)).rejects.toBeInstanceOf(AmocError);
  });
});

describe("a master that dies", () => {
  let c: TestCluster;
  beforeAll(async () => {
    c = await new TestCluster(shared).start(["w1", "w2"], { to: 100, settings: HOLD });
  }, 120_000);
  afterAll(() => c?.close());

  it("another node finds the run, takes it over and goes on; workers keep their users", async () => {
    const running = (await c.status()).users.running;
    // no goodbye: the master's heartbeats just stop
    c.handle.membership.stop();
    await c.handle.bus.close();
    const other = c.extraNode("master3");
    const h3 = await joinCluster(other, "master");
    other.onClose(() => h3.close());
    const st = await c.status(h3);
    expect(st.run).toMatchObject({ run_id: c.runId, master: "master1" });
    expect(st.users.running).toBe(running);
    await untilAsync(async () => !h3.membership.isAlive("master1"), 10_000, "master1 seen down");
    expect(await h3.master!.add(3)).toMatchObject({ users: 3, failed: [] });
    expect((await c.status(h3)).run?.master).toBe("master3");
    await h3.master!.stop();
  });
});
