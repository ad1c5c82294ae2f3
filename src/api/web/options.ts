/** The dashboard's options for a node's REST server: its scenarios, uploads, run store and process health. */
import { readFile } from "node:fs/promises";
import type { ScenarioStore } from "../../cluster/scenario-store.js";
import type { NodeSettings } from "../../config/schema.js";
import { processSampler } from "../../metrics/process-sampler.js";
import { resultsFeed } from "../../cluster/results-feed.js";
import type { NodeApiMode } from "../../node/node-api.js";
import { IntervalAggregator } from "../../results/aggregator.js";
import type { Telemetry } from "../../telemetry.js";
import { runStorePath } from "../commands/runs.js";
import type { DashboardOptions } from "./dashboard.js";
import type { IntervalSource } from "./interval-window.js";

/**
 * Where the live view's per-interval results come from: in a cluster, the workers' intervals the master receives
 * (src/cluster/results-feed.ts); on a local node, an aggregator on its own telemetry while a page is open.
 */
export function intervalSource(
  mode: NodeApiMode,
  telemetry: Telemetry,
  nodeName: string,
  intervalMs: number,
): IntervalSource {
  if (mode === "dist")
    return { start: (onInterval) => resultsFeed(telemetry).follow({ addInterval: onInterval, setNodes: () => {} }) };
  return {
    start(onInterval) {
      const agg = new IntervalAggregator({ telemetry, node: nodeName, intervalMs, onInterval });
      return () => agg.close();
    },
  };
}

/** Dashboard options from a node's settings and its upload store (and its telemetry and API mode, for intervals). */
export function dashboardOptions(
  settings: NodeSettings,
  store: () => Promise<ScenarioStore>,
  node?: { telemetry: Telemetry; mode: NodeApiMode },
  env: NodeJS.ProcessEnv = process.env,
): Omit<DashboardOptions, "api"> {
  const sampler = processSampler();
  return {
    intervals: node
      ? intervalSource(node.mode, node.telemetry, settings.node_name, settings.results_interval)
      : undefined,
    scenariosDir: settings.scenarios_dir,
    runStorePath: runStorePath(settings.data_dir, env),
    health: () => sampler.health(),
    async uploaded(name) {
      const s = await store();
      const u = await s.latest(name);
      if (!u) return null;
      const file = await s.file(name, u.version);
      return { version: u.version, file, source: await readFile(file, "utf8") };
    },
  };
}
