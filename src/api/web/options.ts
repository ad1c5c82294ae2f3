/** The dashboard's options for a node's REST server: its scenarios, uploads, run store and process health. */
import { readFile } from "node:fs/promises";
import type { ScenarioStore } from "../../cluster/scenario-store.js";
import type { NodeSettings } from "../../config/schema.js";
import { processHealth } from "../../metrics/process-health.js";
import { runStorePath } from "../commands/runs.js";
import type { DashboardOptions } from "./dashboard.js";

/** Dashboard options from a node's settings and its upload store. */
export function dashboardOptions(settings: NodeSettings, store: () => Promise<ScenarioStore>, env: NodeJS.ProcessEnv = process.env): Omit<DashboardOptions, "api"> {
  const health = processHealth();
  return {
    scenariosDir: settings.scenarios_dir,
    runStorePath: runStorePath(settings.data_dir, env),
    health: () => health.sample(),
    async uploaded(name) {
      const s = await store();
      const u = await s.latest(name);
      if (!u) return null;
      const file = await s.file(name, u.version);
      return { version: u.version, file, source: await readFile(file, "utf8") };
    },
  };
}
