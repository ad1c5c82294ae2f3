/** Builds controllers and nodes wired to in-memory adapters for unit tests. */
import { loadNodeSettings } from "../../src/config/load.js";
import { Controller } from "../../src/controller/controller.js";
import { silentLogger } from "../../src/log.js";
import { TelemetryMetrics } from "../../src/metrics/metrics.js";
import { Telemetry } from "../../src/telemetry.js";

export const FIXTURES = new URL("../fixtures/scenarios", import.meta.url).pathname;

/** A controller on the fixture scenarios dir (or another), silent logs, a fresh telemetry bus. */
export function testController(
  env: NodeJS.ProcessEnv = {},
  opts: { forceGraceMs?: number; scenariosDir?: string } = {},
) {
  const settings = loadNodeSettings({
    env: { AMOC_NODE_NAME: "test", AMOC_SCENARIOS_DIR: opts.scenariosDir ?? FIXTURES, ...env },
  });
  const telemetry = new Telemetry();
  const controller = new Controller({
    settings,
    env,
    fileVariables: {},
    telemetry,
    metrics: new TelemetryMetrics(telemetry),
    log: silentLogger(),
    forceGraceMs: opts.forceGraceMs,
  });
  return { controller, telemetry, settings };
}
