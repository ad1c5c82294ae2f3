/** A real cluster for throttle tests and benchmarks: NATS, `bin/amoc worker` processes, an in-process master, a UDP receiver. */
import type { ChildProcess } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { joinCluster, type ClusterHandle } from "../../src/cluster/cluster-node.js";
import { createNode, type AmocNode } from "../../src/main.js";
import { NatsCluster } from "./nats-cluster.js";
import { clusterEnv, spawnWorker } from "./proc.js";

export const SHAPES = new URL("../fixtures/shapes", import.meta.url).pathname;

/** Counts datagrams per node name and per receive instant. */
export class Receiver {
  readonly arrivals: Array<{ node: string; atMs: number }> = [];
  private sock!: Socket;
  port = 0;
  async start(): Promise<this> {
    this.sock = createSocket("udp4");
    this.sock.on("message", (m) => this.arrivals.push({ node: m.toString(), atMs: Date.now() }));
    await new Promise<void>((r) => this.sock.bind(0, "127.0.0.1", () => r()));
    this.port = this.sock.address().port;
    return this;
  }
  /** Arrivals in [fromMs, toMs), optionally of one node. */
  count(fromMs: number, toMs: number, node?: string): number {
    let n = 0;
    for (const a of this.arrivals) if (a.atMs >= fromMs && a.atMs < toMs && (!node || a.node === node)) n++;
    return n;
  }
  close(): void {
    this.sock.close();
  }
}

let clusters = 0;

/** Workers as real processes plus a master in this process, on their own cluster_name. */
export class ThrottleCluster {
  readonly name = `th${process.pid}x${++clusters}`;
  readonly workers = new Map<string, ChildProcess>();
  node!: AmocNode;
  handle!: ClusterHandle;

  constructor(readonly nats: NatsCluster) {}

  env(name: string): NodeJS.ProcessEnv {
    return clusterEnv(this.nats, this.name, name, { AMOC_SCENARIOS_DIR: SHAPES });
  }

  async start(workers: string[]): Promise<this> {
    for (const w of workers) {
      this.workers.set(w, spawnWorker(`${this.name}/${w}`, this.env(w)));
    }
    this.node = createNode({ env: this.env("master1") });
    this.handle = await joinCluster(this.node, "master");
    await this.handle.master!.waitForWorkers(workers.length, 60_000);
    return this;
  }

  kill(worker: string): void {
    this.workers.get(worker)?.kill("SIGKILL");
  }

  async close(): Promise<void> {
    await this.handle?.master?.stop().catch(() => undefined);
    await this.handle?.close().catch(() => undefined);
    for (const p of this.workers.values()) p.kill("SIGKILL");
    await this.node?.close();
  }
}

/** A 1-node NATS, a UDP receiver and a ThrottleCluster of `workers` on them, stop() ends all. */
export class ThrottleRig {
  private nats?: NatsCluster;
  private rx?: Receiver;
  private c?: ThrottleCluster;

  async start(workers: string[]): Promise<{ rx: Receiver; c: ThrottleCluster }> {
    this.nats = await NatsCluster.start(1);
    const rx = (this.rx = await new Receiver().start());
    const c = (this.c = await new ThrottleCluster(this.nats).start(workers));
    return { rx, c };
  }

  async stop(): Promise<void> {
    await this.c?.close();
    this.rx?.close();
    await this.nats?.stop();
  }
}

/** Polls an async condition until true or the timeout. */
export async function untilAsync(
  cond: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (
      await Promise.resolve()
        .then(cond)
        .catch(() => false)
    )
      return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
