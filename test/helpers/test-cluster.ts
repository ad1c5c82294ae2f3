/**
 * One cluster of test/integration/cluster.test.ts: its own cluster_name on shared NATS servers, `bin/amoc worker`
 * processes and an in-process master, with its status and the IDs each worker runs.
 */
import type { ChildProcess } from "node:child_process";
import { joinCluster, type ClusterHandle } from "../../src/cluster/cluster-node.js";
import { address, encode } from "../../src/cluster/protocol.js";
import { Subjects } from "../../src/cluster/subjects.js";
import { createNode, type AmocNode } from "../../src/main.js";
import type { NatsCluster } from "./nats-cluster.js";
import { clusterEnv, spawnWorker } from "./proc.js";
import { untilAsync } from "./wait.js";

let clusters = 0;

export interface NodeStatus {
  ok: boolean;
  error?: string;
  result?: { run_id: string | null; state?: string; users: { running: number } };
}
export interface Status {
  run: { run_id: string; master: string; left_nodes: string[]; lost_nodes: string[] } | null;
  users: { running: number; finished: number };
  nodes: Record<string, NodeStatus>;
}

/** One cluster of the test: its own name on the NATS servers, worker processes and an in-process master. */
export class TestCluster {
  readonly name = `t${process.pid}x${++clusters}`;
  readonly workers = new Map<string, ChildProcess>();
  readonly extraNodes: AmocNode[] = [];
  node!: AmocNode;
  handle!: ClusterHandle;
  runId = "";

  constructor(readonly nats: NatsCluster) {}

  env(name: string): NodeJS.ProcessEnv {
    return clusterEnv(this.nats, this.name, name);
  }

  startWorker(name: string): ChildProcess {
    const p = spawnWorker(`${this.name}/${name}`, this.env(name));
    this.workers.set(name, p);
    return p;
  }

  /** Starts the workers and the master, waits until the master sees them all, and optionally starts a run. */
  async start(workers: string[], run?: { to: number; settings: Record<string, unknown> }): Promise<this> {
    for (const w of workers) this.startWorker(w);
    this.node = createNode({ env: this.env("master1") });
    this.handle = await joinCluster(this.node, "master");
    await this.handle.master!.waitForWorkers(workers.length, 60_000);
    if (run) {
      this.runId = (await this.handle.master!.do("dummy", 1, run.to, { settings: run.settings })).run_id as string;
      await untilAsync(async () => (await this.status()).users.running === run.to, 30_000, `${run.to} running`);
    }
    return this;
  }

  /** A node of this cluster in this process (a second master, a duplicate name...), closed with the cluster. */
  extraNode(name: string): AmocNode {
    const n = createNode({ env: this.env(name) });
    this.extraNodes.push(n);
    return n;
  }

  async status(handle = this.handle): Promise<Status> {
    return (await handle.master!.status()) as never;
  }

  /** The IDs a worker runs, asked directly over its command subject. */
  async idsOf(worker: string): Promise<number[]> {
    const raw = await this.handle.bus.request(
      new Subjects(this.name).command(worker),
      encode(
        address(
          { v: 1, type: "top_ids", from: "test", runId: this.runId, n: 1_000_000, force: true },
          this.name,
          this.handle.membership.get(worker)!.boot,
        ),
      ),
      5000,
    );
    const ranges = (JSON.parse(raw) as { result: { ranges: Array<{ first: number; last: number; step: number }> } })
      .result.ranges;
    const ids: number[] = [];
    for (const p of ranges) for (let id = p.first; id <= p.last; id += p.step) ids.push(id);
    return ids.sort((a, b) => a - b);
  }

  async close(): Promise<void> {
    await this.handle?.master?.stop().catch(() => undefined);
    await this.handle?.close().catch(() => undefined);
    for (const p of this.workers.values()) p.kill("SIGKILL");
    for (const n of this.extraNodes) await n.close().catch(() => undefined);
    await this.node?.close();
  }
}
