/** Distributed mode against a real 3-node NATS cluster, with real `bin/amoc worker` processes and an in-process master. */
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { joinCluster, type ClusterHandle } from "../../src/cluster/cluster-node.js";
import { encode } from "../../src/cluster/protocol.js";
import { Subjects } from "../../src/cluster/subjects.js";
import { AmocError } from "../../src/errors.js";
import { createNode, type AmocNode } from "../../src/main.js";
import { NatsCluster } from "../helpers/nats-cluster.js";
import { AMOC } from "../helpers/proc.js";

const CLUSTER = `t${process.pid}`;
let nats: NatsCluster;
const workers = new Map<string, ChildProcess>();
let node: AmocNode;
let handle: ClusterHandle;
let runId: string;

function env(name: string): NodeJS.ProcessEnv {
  return { ...process.env, AMOC_NODE_NAME: name, AMOC_NATS_URL: nats.urls.join(","), AMOC_CLUSTER_NAME: CLUSTER, AMOC_LOG_LEVEL: "warn" };
}

function startWorker(name: string): void {
  const p = spawn(AMOC, ["worker"], { env: env(name), stdio: ["ignore", "ignore", "pipe"] });
  p.stderr?.on("data", (d: Buffer) => process.stderr.write(`[${name}] ${d.toString()}`));
  workers.set(name, p);
}

interface NodeStatus {
  ok: boolean;
  error?: string;
  result?: { run_id: string | null; users: { running: number } };
}
async function status(): Promise<{ users: { running: number }; nodes: Record<string, NodeStatus> }> {
  return (await handle.master!.status()) as never;
}

/** The IDs a worker runs, asked directly over the command subject. */
async function idsOf(worker: string): Promise<number[]> {
  const raw = await handle.bus.request(new Subjects(CLUSTER).command(worker), encode({ v: 1, type: "top_ids", from: "test", runId, n: 1_000_000, force: true }), 5000);
  return ((JSON.parse(raw) as { result: { ids: number[] } }).result.ids ?? []).sort((a, b) => a - b);
}

beforeAll(async () => {
  nats = await NatsCluster.start(3);
  for (const w of ["w1", "w2", "w3"]) startWorker(w);
  node = createNode({ env: env("master1") });
  handle = await joinCluster(node, "master");
  node.onClose(() => handle.close());
  await handle.master!.waitForWorkers(3, 30_000);
}, 120_000);

afterAll(async () => {
  await handle?.master?.stop().catch(() => undefined);
  await handle?.close().catch(() => undefined);
  for (const p of workers.values()) p.kill("SIGKILL");
  await node?.close();
  await nats?.stop();
});

describe("distributed mode on a 3-node NATS cluster", () => {
  it("do(1..3000) gives each of 3 workers exactly 1000 users whose IDs are congruent mod 3", async () => {
    const r = await handle.master!.do("dummy", 1, 3000, { settings: { interarrival: 0, dummy_sleep_ms: 200, repeat_interval: 50 } });
    runId = r.run_id as string;
    await untilAsync(async () => (await status()).users.running === 3000, 15_000, "3000 running");
    const residues = new Set<number>();
    for (const w of ["w1", "w2", "w3"]) {
      const ids = await idsOf(w);
      expect(ids).toHaveLength(1000);
      const r0 = ids[0]! % 3;
      expect(ids.every((id) => id % 3 === r0)).toBe(true);
      residues.add(r0);
    }
    expect(residues.size).toBe(3);
  });

  it("add(300) gives each worker 100 more, 1100 each", async () => {
    const r = await handle.master!.add(300);
    expect(r).toMatchObject({ from: 3001, to: 3300 });
    await untilAsync(async () => (await status()).users.running === 3300, 15_000, "3300 running");
    for (const w of ["w1", "w2", "w3"]) expect(await idsOf(w)).toHaveLength(1100);
  });

  it("remove(30) removes IDs 3271..3300, the 30 highest cluster-wide", async () => {
    const r = await handle.master!.remove(30);
    expect(r).toMatchObject({ requested: 30, removed: 30, ids: [3271, 3300] });
    await untilAsync(async () => (await status()).users.running === 3270, 15_000, "3270 running");
    const all = (await Promise.all(["w1", "w2", "w3"].map(idsOf))).flat();
    expect(Math.max(...all)).toBe(3270);
  });

  it("kill -9 of a worker: it shows down within 5 s and its users run again on the others, same IDs", async () => {
    const before = new Set((await Promise.all(["w1", "w2", "w3"].map(idsOf))).flat());
    const t0 = Date.now();
    workers.get("w2")!.kill("SIGKILL");
    await untilAsync(async () => (await status()).nodes.w2?.error?.startsWith("down") === true, 5000, "w2 reported down");
    const downMs = Date.now() - t0;
    await untilAsync(async () => (await status()).users.running === 3270, 10_000, "running restored");
    const after = (await Promise.all(["w1", "w3"].map(idsOf))).flat();
    expect(after).toHaveLength(3270);
    expect(new Set(after)).toEqual(before);
    process.stderr.write(`[cluster.test] w2 down after ${downMs} ms, users restored after ${Date.now() - t0} ms\n`);
  });

  it("a restarted NATS cluster member does not stop the run", async () => {
    await nats.restart(0);
    expect((await status()).users.running).toBe(3270);
    expect(await handle.master!.add(2)).toMatchObject({ from: 3301, to: 3302 });
    await untilAsync(async () => (await status()).users.running === 3272, 15_000, "3272 running");
  });

  it("a late joiner gets 0 users, then its share of the next add", async () => {
    startWorker("w4");
    await untilAsync(async () => (await status()).nodes.w4?.result?.run_id === runId, 20_000, "w4 joined the run");
    expect((await status()).nodes.w4?.result?.users.running).toBe(0);
    await handle.master!.add(9);
    await untilAsync(async () => (await status()).nodes.w4?.result?.users.running === 3, 15_000, "w4 running 3");
    expect(await idsOf("w4")).toHaveLength(3);
  });

  it("malformed messages on a command subject are rejected with a reason and the node goes on", async () => {
    const subject = new Subjects(CLUSTER).command("w1");
    for (const bad of ["garbage", JSON.stringify({ v: 9, type: "stop", from: "evil" }), JSON.stringify({ v: 1, type: "start", from: "evil", runId, plans: [{ from: "x" }] })]) {
      const reply = JSON.parse(await handle.bus.request(subject, bad, 5000)) as { ok: boolean; error: { message: string } };
      expect(reply.ok).toBe(false);
      expect(reply.error.message).toMatch(/^rejected: /);
    }
    expect((await status()).nodes.w1?.result?.users.running).toBeGreaterThan(0);
  });

  it("a node cannot join under the name of a live node", async () => {
    const dup = createNode({ env: env("w1") });
    try {
      await expect(joinCluster(dup, "worker")).rejects.toThrow(/another node already runs as 'w1'/);
    } finally {
      await dup.close();
    }
    expect((await status()).nodes.w1?.ok).toBe(true);
  });

  it("a second master cannot start another run while one is in progress", async () => {
    const other = createNode({ env: env("master2") });
    const h2 = await joinCluster(other, "master");
    other.onClose(() => h2.close());
    try {
      await expect(h2.master!.do("dummy", 1, 10)).rejects.toMatchObject({ code: "CLUSTER_BUSY" });
      await expect(h2.master!.add(1)).rejects.toBeInstanceOf(AmocError);
    } finally {
      await other.close();
    }
  });

  it("when the master dies, another node finds the run, takes it over and goes on; workers keep their users", async () => {
    const running = (await status()).users.running;
    await handle.close(); // the master leaves: no more heartbeats
    const other = createNode({ env: env("master3") });
    const h3 = await joinCluster(other, "master");
    other.onClose(() => h3.close());
    try {
      const st = (await h3.master!.status()) as { run: { run_id: string; master: string } | null; users: { running: number } };
      expect(st.run).toMatchObject({ run_id: runId, master: "master1" });
      expect(st.users.running).toBe(running);
      await untilAsync(async () => !h3.membership.isAlive("master1"), 10_000, "master1 seen down");
      const added = await h3.master!.add(3);
      expect(added).toMatchObject({ users: 3 });
      expect(((await h3.master!.status()) as { run: { master: string } }).run.master).toBe("master3");
      await h3.master!.stop();
    } finally {
      await other.close();
    }
  });
});

async function untilAsync(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
