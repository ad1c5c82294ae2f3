/** `AmocNode`: one running node (settings, logger, telemetry, metrics, controller) and how to build and close it. */
import { dirname, join } from "node:path";
import { configFilePath, envValue, loadNodeSettings, readConfigFile } from "../config/load.js";
import type { NodeSettings } from "../config/schema.js";
import { Controller } from "../controller/controller.js";
import { createLogger, flushLog, type Logger } from "../log.js";
import { TelemetryMetrics, type Metrics } from "../metrics/metrics.js";
import { servePrometheus, type PrometheusMetrics } from "../metrics/prometheus.js";
import { startReporting } from "../metrics/reporting.js";
import { Telemetry } from "../telemetry.js";
import { dataRoot } from "./data-dir.js";

/** One running amoc node. */
export interface AmocNode {
  settings: NodeSettings;
  env: NodeJS.ProcessEnv;
  log: Logger;
  telemetry: Telemetry;
  metrics: Metrics;
  controller: Controller;
  /** The node's Prometheus series, for GET /metrics (src/metrics/prometheus.ts). */
  prometheus?: PrometheusMetrics;
  /** Registers a release step run by `close` (last registered, first run). */
  onClose(fn: () => Promise<void> | void): void;
  /** Stops users, flushes logs and releases adapters. */
  close(): Promise<void>;
}

/** How to build a node. */
export interface NodeOptions {
  env?: NodeJS.ProcessEnv;
  /** Command defaults, below env and file (e.g. `amoc run` logs at warn). */
  defaults?: Record<string, unknown>;
  /** Command-line overrides, above env. */
  overrides?: Record<string, unknown>;
  /** Emit run events for annotations (off on cluster workers: their master announces). */
  announce?: boolean;
  /**
   * A one-shot command on a terminal (`amoc run`, `amoc scenarios`): with `log_format` file and no `log_file`, the
   * JSON log lines go to `<run dir>/log/amoc-run.log`, so stderr carries only what people read.
   */
  oneShot?: boolean;
}

/** Where a one-shot command's log lines go when `log_file` names none. */
export function oneShotLogFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(dirname(dataRoot(env)), "log", "amoc-run.log");
}

/** Loads settings (throws ConfigError naming every bad variable) and builds the node. */
export function createNode(opts: NodeOptions = {}): AmocNode {
  const env = opts.env ?? process.env;
  const settings = loadNodeSettings({
    env,
    defaults: opts.defaults,
    overrides: opts.overrides,
    overridesLabel: "option",
  });
  const file = configFilePath(env);
  const fileVariables = file ? readConfigFile(file).variables : {};
  const logFile =
    settings.log_file || (opts.oneShot && settings.log_format === "file" ? oneShotLogFile(env) : settings.log_file);
  const log = createLogger({ level: settings.log_level, file: logFile, nodeName: settings.node_name });
  const telemetry = new Telemetry({ log });
  const metrics = new TelemetryMetrics(telemetry);
  const controller = new Controller({ settings, env, fileVariables, telemetry, metrics, log, announce: opts.announce });
  const closers: Array<() => Promise<void> | void> = [];
  const ownPort = envValue(env, "prometheus_port") !== undefined;
  const reporting = startReporting(settings, telemetry, log, ownPort || envValue(env, "api_port") !== undefined);
  closers.push(() => reporting.close());
  if (ownPort && reporting.prometheus) {
    const server = servePrometheus(reporting.prometheus, settings.prometheus_port, settings.prometheus_host, log);
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  }
  return {
    settings,
    env,
    log,
    telemetry,
    metrics,
    controller,
    prometheus: reporting.prometheus,
    onClose(fn) {
      closers.push(fn);
    },
    async close() {
      await controller.shutdown();
      for (const c of closers.reverse()) await c();
      log.info({ msg: "node_stopped" });
      flushLog(log);
    },
  };
}
