/**
 * The two Node APIs of a node: local (its controller) and dist (the cluster, joined on first use). Built once per
 * node over one scenario catalog (one upload store), one run store and history, so every front end (console,
 * attach, REST, dashboard, `bin/amoc run`) shares them.
 */
import { join, resolve } from "node:path";
import { nodeDataDir } from "../cluster/scenario-store.js";
import { envValue } from "../config/load.js";
import { processSampler } from "../metrics/process-sampler.js";
import type { AmocNode } from "./amoc-node.js";
import type { HealthSample } from "./capacity/health.js";
import { runStorePath } from "./data-dir.js";
import { History } from "./history.js";
import { NodeService } from "./node-service.js";
import { DistEngine } from "./run/dist-engine.js";
import type { RunEngine } from "./run/engine.js";
import { LocalEngine } from "./run/local-engine.js";
import { RunService, type RunServiceDeps } from "./run/run-service.js";
import { configThresholds } from "./run/thresholds.js";
import { ScenarioCatalog } from "./scenarios/catalog.js";
import { uploadStore } from "./scenarios/upload-store.js";
import { sutPlan } from "../sut/plan.js";

/** Both APIs of one node. */
export interface NodeApis {
  local: NodeService;
  dist: NodeService;
}

/** This process's event-loop lag and CPU, for a local capacity search's generator health. */
function sampleThisProcess(): HealthSample {
  const p = processSampler().sample();
  return { lagP99Ms: p.eventLoopLagP99Ms, cpuPct: p.cpuPct };
}

const built = new WeakMap<AmocNode, NodeApis>();

/** One mode's API over an engine: its run service on the node's catalog and run store. */
export function nodeService(
  p: Omit<RunServiceDeps, "engine" | "catalog"> & { engine: RunEngine; catalog: ScenarioCatalog; history?: History },
): NodeService {
  const { history, ...deps } = p;
  return new NodeService({
    engine: p.engine,
    catalog: p.catalog,
    runs: new RunService(deps),
    history: history ?? new History(p.storePath),
    capacity: {
      storePath: p.storePath,
      intervalMs: p.intervalMs,
      log: p.log,
      // a local search's users run in this process; a cluster's workers report their own health in their intervals
      ...(p.engine.mode === "local" ? { sampleHealth: sampleThisProcess } : {}),
    },
  });
}

/**
 * The node's APIs (built once per node). Both see uploaded scenarios: from the cluster's bucket when the node is in
 * a cluster (AMOC_NATS_URL set; over the master's own NATS connection), else from its data directory. The dist one
 * joins NATS only when first used and leaves when the node closes. The config file's thresholds are read here, so
 * a bad one fails the node's start, not a run.
 */
export function nodeApis(node: AmocNode): NodeApis {
  const have = built.get(node);
  if (have) return have;
  const s = node.settings;
  const distEngine = new DistEngine(node);
  const inCluster = envValue(node.env, "nats_url") !== undefined;
  const store = uploadStore(s, inCluster ? async () => (await distEngine.handle()).bus! : undefined, node.log);
  const catalog = new ScenarioCatalog({
    scenariosDir: s.scenarios_dir,
    workDir: resolve(join(nodeDataDir(s, node.env), "upload-check")),
    store,
    uploads: s.api_uploads ?? true,
  });
  const storePath = runStorePath(s.data_dir, node.env);
  const history = new History(storePath);
  const fileThresholds = configThresholds(node.env);
  const service = (engine: RunEngine): NodeService => {
    const api = nodeService({
      engine,
      catalog,
      history,
      telemetry: node.telemetry,
      storePath,
      intervalMs: s.results_interval,
      log: node.log,
      fileThresholds,
      sut: sutPlan(s, { log: node.log }),
    });
    node.onClose(() => api.close());
    return api;
  };
  const apis: NodeApis = {
    local: service(new LocalEngine({ controller: node.controller, labels: s.node_labels })),
    dist: service(distEngine),
  };
  built.set(node, apis);
  return apis;
}
