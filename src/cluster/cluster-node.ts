/** Joins this node to the cluster: the bus, membership, and the worker agent or the master, by role. */
import { randomUUID } from "node:crypto";
import type { NodeSettings } from "../config/schema.js";
import type { Controller } from "../controller/controller.js";
import { ConfigError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Telemetry } from "../telemetry.js";
import { Master } from "./master/master.js";
import { Membership } from "./membership.js";
import type { ClusterBus } from "./bus.js";
import { connectBus } from "./nats-bus.js";
import type { Heartbeat, NodeRole } from "./protocol.js";
import { KvScenarioStore } from "./nats-scenario-store.js";
import { uploadsDir } from "./scenario-store.js";
import { NODE_NAME_RE, Subjects } from "./subjects.js";
import { WorkerAgent } from "./worker/agent.js";
import { ThrottleMaster } from "./throttle-master.js";
import { followThrottles } from "./throttle-worker.js";
import { ResultsPublisher } from "./results-publisher.js";
import { workerHealthGauges } from "./worker-health.js";
import { resultsFeed } from "./results-feed.js";
import { CoordinatorMaster } from "./coordinator-master.js";
import { remoteCoordinator } from "./coordinator-worker.js";

/** A node's membership of the cluster. */
export interface ClusterHandle {
  role: NodeRole;
  bus: ClusterBus;
  membership: Membership;
  master: Master | undefined;
  agent: WorkerAgent | undefined;
  /** The master's throttle splitter (masters only). */
  throttles?: ThrottleMaster;
  /** Leaves normally: a worker stops its users, the node says goodbye (others log it as left, not down), then disconnects. */
  close(): Promise<void>;
}

/** What joining needs from the node. */
export interface JoinDeps {
  settings: NodeSettings;
  controller: Controller;
  telemetry: Telemetry;
  log: Logger;
}

/** Connects to NATS and starts the role's machinery; fails with a clear error when NATS is unreachable. */
export async function joinCluster(node: JoinDeps, role: NodeRole): Promise<ClusterHandle> {
  const s = node.settings;
  if (!NODE_NAME_RE.test(s.node_name)) {
    throw new ConfigError([
      {
        key: "node_name",
        source: "AMOC_NODE_NAME",
        message: `'${s.node_name}' cannot name a cluster node: use letters, digits, '_' and '-' only`,
      },
    ]);
  }
  const subjects = new Subjects(s.cluster_name);
  const bus = await connectBus(s, subjects.bucket(), node.log);
  const kv = await bus.kv();
  const boot = randomUUID().slice(0, 8);
  let agent: WorkerAgent | undefined;
  const self = (): Heartbeat => ({
    v: 1,
    type: "heartbeat",
    from: s.node_name,
    role,
    boot,
    labels: s.node_labels,
    runId: agent?.currentRunId ?? null,
    state: node.controller.state,
    running: node.controller.status().users.running,
  });
  const membership = new Membership(bus, subjects, self, node.log);
  // a worker publishes its run's intervals to the master (src/cluster/results-publisher.ts); the agent syncs it on
  // each run change, so a stop's final interval goes out before the stop's reply
  let results: ResultsPublisher | undefined;
  if (role === "worker") {
    results = new ResultsPublisher({
      bus,
      subjects,
      telemetry: node.telemetry,
      nodeName: s.node_name,
      intervalMs: s.results_interval,
      currentRunId: () => agent?.currentRunId ?? null,
      log: node.log,
      health: workerHealthGauges(),
    });
    agent = new WorkerAgent({
      bus,
      kv,
      subjects,
      controller: node.controller,
      telemetry: node.telemetry,
      log: node.log,
      nodeName: s.node_name,
      boot,
      onChange: () => membership.beat(),
      results,
      scenarioFile: (name, version) => new KvScenarioStore(kv, uploadsDir(s), { log: node.log }).file(name, version),
    });
  }
  const master =
    role === "master"
      ? new Master({
          bus,
          kv,
          subjects,
          membership,
          controller: node.controller,
          telemetry: node.telemetry,
          log: node.log,
          nodeName: s.node_name,
          timeoutMs: s.nats_timeout,
          sources: new KvScenarioStore(kv, uploadsDir(s), { log: node.log }),
          results: resultsFeed(node.telemetry),
        })
      : undefined;
  // listen for one interval before announcing: a live node under the same name must be heard first
  membership.start();
  await membership.warmedUp();
  if (membership.nameClash) {
    membership.stop();
    await bus.close();
    throw new ConfigError([
      { key: "node_name", source: "AMOC_NODE_NAME", message: `${membership.nameClash}; give each node its own name` },
    ]);
  }
  // commands are served before the first heartbeat: a master that sees this node can use it at once
  await agent?.start();
  const offThrottles = agent
    ? followThrottles({ bus, subjects, nodeName: s.node_name, throttles: node.controller.throttles, log: node.log })
    : undefined;
  const coordination = agent ? remoteCoordinator({ bus, subjects, nodeName: s.node_name }) : undefined;
  if (coordination) node.controller.useCoordinator(coordination.client);
  const coordinator = master
    ? new CoordinatorMaster({ bus, subjects, membership, nodeName: s.node_name, log: node.log }).start()
    : undefined;
  const throttles = master
    ? new ThrottleMaster({
        bus,
        subjects,
        membership,
        nodeName: s.node_name,
        log: node.log,
        timeoutMs: s.nats_timeout,
      }).start()
    : undefined;
  if (master) {
    const workers = () => master.workers().map((w) => ({ name: w.from, runId: w.runId }));
    resultsFeed(node.telemetry).connect({
      bus,
      subjects,
      workers,
      onMembershipChange: (fn) => {
        membership.onUp(fn);
        membership.onDown(fn);
        membership.onLeft(fn);
      },
      currentRun: () => master.lastRun,
      log: node.log,
    });
  }
  membership.startBeating();
  node.log.info({ msg: "cluster_joined", role, cluster: s.cluster_name, nats: s.nats_url });
  return {
    role,
    bus,
    membership,
    master,
    agent,
    throttles,
    async close() {
      offThrottles?.();
      throttles?.stop();
      coordination?.close();
      coordinator?.stop();
      // a worker stops its own users first, so nobody re-deals them; then the goodbye beat: "left", not "down"
      await agent?.leave();
      results?.close();
      if (master) resultsFeed(node.telemetry).disconnect();
      membership.stop();
      membership.leave();
      await bus.close();
    },
  };
}
