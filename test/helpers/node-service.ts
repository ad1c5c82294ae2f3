/** Node APIs for unit tests: the real run service, catalog and history over a local or fake engine and a temp store. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Controller } from "../../src/controller/controller.js";
import { silentLogger, type Logger } from "../../src/log.js";
import { nodeService } from "../../src/node/apis.js";
import type { NodeService } from "../../src/node/node-service.js";
import type { RunEngine } from "../../src/node/run/engine.js";
import { LocalEngine } from "../../src/node/run/local-engine.js";
import { ScenarioCatalog } from "../../src/node/scenarios/catalog.js";
import { parseThresholds } from "../../src/results/thresholds.js";
import { DirScenarioStore } from "../../src/scenario/upload-dir-store.js";
import type { Telemetry } from "../../src/telemetry.js";

/** What a test service is built on. */
export interface TestServiceOptions {
  scenariosDir: string;
  /** The engine (default: a local one over `controller`). */
  engine?: RunEngine;
  controller?: Controller;
  labels?: Record<string, string>;
  telemetry?: Telemetry;
  log?: Logger;
  manualTicks?: boolean;
  intervalMs?: number;
  /** The config file's thresholds. */
  fileThresholds?: string[];
}

/** A service with its own temp directory (run store, uploads); `cleanup` removes it. */
export function testService(o: TestServiceOptions): {
  api: NodeService;
  dir: string;
  storePath: string;
  cleanup(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), "amoc-svc-"));
  const engine = o.engine ?? new LocalEngine({ controller: o.controller!, labels: o.labels ?? {} });
  const store = new DirScenarioStore(join(dir, "uploads"));
  const catalog = new ScenarioCatalog({
    scenariosDir: o.scenariosDir,
    workDir: join(dir, "upload-check"),
    store: async () => store,
  });
  const storePath = join(dir, "runs.sqlite");
  const api = nodeService({
    engine,
    catalog,
    telemetry: o.telemetry,
    storePath,
    intervalMs: o.intervalMs ?? 1000,
    log: o.log ?? silentLogger(),
    manualTicks: o.manualTicks,
    fileThresholds: parseThresholds(o.fileThresholds ?? []),
  });
  return {
    api,
    dir,
    storePath,
    cleanup() {
      api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
