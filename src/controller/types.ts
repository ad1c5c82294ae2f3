/** The controller's shapes: its states, what it is built from, and a node's status as every front end shows it. */
import type { NodeSettings } from "../config/schema.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type { Telemetry } from "../telemetry.js";
import type { RunStatus } from "./run.js";

/** Where a node's run is: idle → running → terminating → finished, or error after a failed start. */
export type ControllerState = "idle" | "running" | "terminating" | "finished" | "error";

/** What a controller is built from. */
export interface ControllerDeps {
  settings: NodeSettings;
  env: NodeJS.ProcessEnv;
  /** Scenario variables from the config file. */
  fileVariables: Record<string, unknown>;
  telemetry: Telemetry;
  metrics: Metrics;
  log: Logger;
  forceGraceMs?: number;
  /** Emit run events (do/add/remove/stop/settings) for annotations; off on cluster workers, whose master announces. */
  announce?: boolean;
}

/** A node's status, as printed by the console and returned by the API. */
export interface StatusReport extends RunStatus {
  node: string;
  state: ControllerState;
  error?: { code: string; message: string; hint: string };
  /** Times a telemetry subscriber threw (a bug in it; logged once per subscriber as telemetry_subscriber_failed). */
  telemetry_failures?: number;
}
