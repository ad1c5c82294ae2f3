/**
 * A million users on a real 3-node NATS cluster and three `bin/amoc worker` processes: a cluster-wide removal of
 * 300,000 of them travels as ranges (no message near NATS's 1 MB payload) and removes exactly the highest IDs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { joinCluster, type ClusterHandle } from "../../src/cluster/cluster-node.js";
import { address, encode, type Reply } from "../../src/cluster/protocol.js";
import { Subjects } from "../../src/cluster/subjects.js";
import { createNode, type AmocNode } from "../../src/main.js";
import { NatsCluster } from "../helpers/nats-cluster.js";
import { AMOC } from "../helpers/proc.js";

const CLUSTER = `m${process.pid}`;
const WORKERS = ["w1", "w2", "w3"];
let nats: NatsCluster;
const procs: ChildProcess[] = [];
let node: AmocNode;
let handle: ClusterHandle;
let largest = 0;
/** Workers the master judged down during the test (a busy worker must not look dead). */
const downs: string[] = [];

function env(name: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AMOC_NODE_NAME: name,
    AMOC_NATS_URL: nats.urls.join(","),
    AMOC_CLUSTER_NAME: CLUSTER,
    AMOC_LOG_LEVEL: "warn",
  };
}

async function running(): Promise<number> {
  return ((await handle.master!.status()) as { users: { running: number } }).users.running;
}

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  nats = await NatsCluster.start(3);
  for (const w of WORKERS) {
    const p = spawn(AMOC, ["worker"], {
      env: { ...env(w), NODE_OPTIONS: "--max-old-space-size=4096" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    p.stderr?.on("data", (d: Buffer) => process.stderr.write(`[${w}] ${d.toString()}`));
    procs.push(p);
  }
  node = createNode({ env: env("master1") });
  handle = await joinCluster(node, "master");
  await handle.master!.waitForWorkers(3, 60_000);
  handle.membership.onDown((n) => downs.push(n));
  // every command and every reply (replies go to inboxes) is measured
  for (const subject of [new Subjects(CLUSTER).allCommands(), "_INBOX.>"])
    handle.bus.subscribe(subject, (d) => (largest = Math.max(largest, d.length)));
  await handle.bus.flush();
}, 120_000);

afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await handle?.close().catch(() => undefined);
  await node?.close();
  await nats?.stop();
});

describe("a million users on the cluster", () => {
  it("remove(300000) removes IDs 700,001..1,000,000 in messages of a few kilobytes", async () => {
    const t0 = Date.now();
    // four steps of 250,000 (each all at once): starting 333,000 users in one go starves a worker's event loop
    // for longer than the 3 s heartbeat window on a shared machine, and the cluster would judge it dead
    const run = await handle.master!.do("dummy", 1, 250_000, {
      settings: { interarrival: 0, dummy_sleep_ms: 3_600_000, repeat_num: 1 },
    });
    await until(async () => (await running()) === 250_000, 120_000, "250,000 running");
    for (const total of [500_000, 750_000, 1_000_000]) {
      expect(await handle.master!.add(250_000)).toMatchObject({ failed: [] });
      await until(async () => (await running()) === total, 120_000, `${total} running`);
    }
    const startedMs = Date.now() - t0;
    const t1 = Date.now();
    const r = await handle.master!.remove(300_000, { force: true });
    const removeMs = Date.now() - t1;
    expect(r).toMatchObject({ requested: 300_000, removed: 300_000, ids: [700_001, 1_000_000], failed: [] });
    await until(async () => (await running()) === 700_000, 60_000, "700,000 running");
    // the highest ID still running on each worker is at most 700,000
    for (const w of WORKERS) {
      const raw = await handle.bus.request(
        new Subjects(CLUSTER).command(w),
        encode(
          address(
            { v: 1, type: "top_ids", from: "test", runId: run.run_id as string, n: 1, force: true },
            CLUSTER,
            handle.membership.get(w)!.boot,
          ),
        ),
        10_000,
      );
      const reply = JSON.parse(raw) as Reply;
      expect(reply.ok).toBe(true);
      const top = (reply as { result: { ranges: Array<{ last: number }> } }).result.ranges;
      expect(top).toHaveLength(1);
      expect(top[0]!.last).toBeLessThanOrEqual(700_000);
    }
    expect(largest).toBeLessThan(64 * 1024);
    process.stderr.write(
      `[cluster-million] 1,000,000 running after ${startedMs} ms; remove(300000) took ${removeMs} ms; largest message ${largest} bytes; judged down: ${downs.join(", ") || "none"}\n`,
    );
  }, 400_000);
});
