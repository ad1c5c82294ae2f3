/**
 * A whole cluster in one process on a FakeNet: a master and workers, each with its own controller (fixture
 * scenarios), membership with short beats, and a logger that keeps its lines for assertions.
 */
import { pino, type Logger } from "pino";
import { Master } from "../../src/cluster/master/master.js";
import { Membership } from "../../src/cluster/membership.js";
import type { Heartbeat, NodeRole } from "../../src/cluster/protocol.js";
import { ResultsFeed } from "../../src/cluster/results-feed.js";
import { ResultsPublisher } from "../../src/cluster/results-publisher.js";
import { Subjects } from "../../src/cluster/subjects.js";
import { WorkerAgent } from "../../src/cluster/worker/agent.js";
import type { Controller } from "../../src/controller/controller.js";
import type { Telemetry } from "../../src/telemetry.js";
import { FakeNet, type FakeBus } from "./fake-bus.js";
import { testController } from "./node.js";

/** Default heartbeat interval of fake clusters: a node is down after 3 missed beats (300 ms). */
export const BEAT_MS = 100;

/** A logger that keeps every line (parsed) in `lines`. */
export function memoryLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino(
    { level: "debug" },
    { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { log, lines };
}

/** One node of a fake cluster. */
export interface FakeNode {
  name: string;
  bus: FakeBus;
  controller: Controller;
  telemetry: Telemetry;
  membership: Membership;
  agent?: WorkerAgent;
  master?: Master;
  /** The master's results feed (masters only): the workers' intervals, as on NATS. */
  feed?: ResultsFeed;
  lines: Array<Record<string, unknown>>;
  /** Leaves normally (a worker stops its users, then the goodbye beat). */
  leave(): Promise<void>;
  /** Dies: no goodbye, no more beats or answers (like kill -9). */
  crash(): Promise<void>;
}

export const subjects = new Subjects("fake");

/** Joins a node to `net` with the given role, as cluster-node.ts does with NATS. */
export async function fakeNode(
  net: FakeNet,
  name: string,
  role: NodeRole,
  o: {
    labels?: Record<string, string>;
    beatMs?: number;
    /** A worker's results interval (default 1 s; its last interval is flushed when it stops or leaves). */
    resultsMs?: number;
    /** The process's boot ID (default b1). */ boot?: string;
  } = {},
): Promise<FakeNode> {
  const labels = o.labels ?? {};
  const boot = o.boot ?? "b1";
  const { controller, telemetry } = testController({ AMOC_NODE_NAME: name });
  const { log, lines } = memoryLogger();
  const bus = net.bus();
  const kv = await bus.kv();
  let agent: WorkerAgent | undefined;
  const self = (): Heartbeat => ({
    v: 1,
    type: "heartbeat",
    from: name,
    role,
    boot,
    labels,
    runId: agent?.currentRunId ?? null,
    state: controller.state,
    running: controller.status().users.running,
  });
  const membership = new Membership(bus, subjects, self, log, { intervalMs: o.beatMs ?? BEAT_MS });
  const results =
    role === "worker"
      ? new ResultsPublisher({
          bus,
          subjects,
          telemetry,
          nodeName: name,
          intervalMs: o.resultsMs ?? 1000,
          currentRunId: () => agent?.currentRunId ?? null,
          log,
        })
      : undefined;
  const feed = role === "master" ? new ResultsFeed() : undefined;
  if (role === "worker")
    agent = new WorkerAgent({
      bus,
      kv,
      subjects,
      controller,
      telemetry,
      log,
      nodeName: name,
      boot,
      onChange: () => membership.beat(),
      results,
    });
  const master =
    role === "master"
      ? new Master({
          bus,
          kv,
          subjects,
          membership,
          controller,
          telemetry,
          log,
          nodeName: name,
          timeoutMs: 2000,
          results: feed,
        })
      : undefined;
  if (master && feed)
    feed.connect({
      bus,
      subjects,
      workers: () => master.workers().map((w) => ({ name: w.from, runId: w.runId })),
      onMembershipChange: (fn) => {
        membership.onUp(fn);
        membership.onDown(fn);
        membership.onLeft(fn);
      },
      currentRun: () => master.lastRun,
      log,
    });
  membership.start();
  await membership.warmedUp();
  await agent?.start();
  membership.startBeating();
  return {
    name,
    bus,
    controller,
    telemetry,
    membership,
    agent,
    master,
    feed,
    lines,
    async leave() {
      await agent?.leave();
      membership.stop();
      membership.leave();
      await bus.close();
    },
    async crash() {
      agent?.stop();
      feed?.disconnect();
      membership.stop();
      await bus.close();
    },
  };
}

/**
 * A master and `n` workers w1..wn on a fresh FakeNet; the master has seen every worker. Tests that start many
 * users in-process give a longer beat: a busy event loop must not look like a dead node.
 */
export async function fakeCluster(
  n: number,
  o: { beatMs?: number; resultsMs?: number } = {},
): Promise<{ net: FakeNet; master: FakeNode; workers: FakeNode[]; close: () => Promise<void> }> {
  const net = new FakeNet();
  const workers = await Promise.all(Array.from({ length: n }, (_, i) => fakeNode(net, `w${i + 1}`, "worker", o)));
  const master = await fakeNode(net, "m1", "master", o);
  await master.master!.waitForWorkers(n, 5000);
  return {
    net,
    master,
    workers,
    async close() {
      for (const node of [master, ...workers]) {
        await node.crash();
        if (node.controller.state === "running") await node.controller.stop();
      }
    },
  };
}
