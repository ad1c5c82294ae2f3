/** A scenario's `init` and `terminate` hooks, run once per run with their telemetry and logging. */
import type { NodeSettings } from "../config/schema.js";
import { ScenarioError, errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type { LoadedScenario } from "../scenario/loader.js";
import { sleepMs } from "../scenario/sleep.js";
import type { Telemetry } from "../telemetry.js";
import { nowMs } from "../users/schedule.js";
import type { ThrottleRegistry } from "../throttle/throttle.js";

/** What the hooks are given and report to. */
export interface HookDeps {
  telemetry: Telemetry;
  metrics: Metrics;
  log: Logger;
  throttles: ThrottleRegistry;
}

/** Runs the scenario's `init` (if any) and resolves with its state; a failure is a ScenarioError. */
export async function runInit(
  d: HookDeps,
  scenario: LoadedScenario,
  vars: Record<string, unknown>,
  settings: NodeSettings,
): Promise<unknown> {
  const init = scenario.module.init;
  if (!init) return undefined;
  const t0 = nowMs();
  try {
    const state = await init({
      scenario: scenario.name,
      nodeName: settings.node_name,
      log: d.log.child({ scenario: scenario.name }),
      metrics: d.metrics,
      vars,
      settings,
      sleep: sleepMs,
      throttle: d.throttles,
    });
    d.telemetry.emit("scenario.init", { scenario: scenario.name, durationMs: nowMs() - t0, ok: true });
    return state;
  } catch (e) {
    d.telemetry.emit("scenario.init", {
      scenario: scenario.name,
      durationMs: nowMs() - t0,
      ok: false,
      message: errorMessage(e),
    });
    d.log.error({ msg: "scenario_init_failed", scenario: scenario.name, err: errorMessage(e) });
    throw new ScenarioError(
      "SCENARIO_INIT_FAILED",
      `init of scenario '${scenario.name}' failed: ${errorMessage(e)}`,
      "fix init() in the scenario (no user was started)",
      { cause: e },
    );
  }
}

/** Runs the scenario's `terminate` (if any) with the run's state; a failure is logged, not thrown (the run ends anyway). */
export async function runTerminate(
  d: Pick<HookDeps, "telemetry" | "log">,
  scenario: LoadedScenario,
  state: unknown,
): Promise<void> {
  const fn = scenario.module.terminate;
  if (!fn) return;
  const t0 = nowMs();
  try {
    await fn(state);
    d.telemetry.emit("scenario.terminate", { scenario: scenario.name, durationMs: nowMs() - t0, ok: true });
  } catch (e) {
    d.telemetry.emit("scenario.terminate", {
      scenario: scenario.name,
      durationMs: nowMs() - t0,
      ok: false,
      message: errorMessage(e),
    });
    d.log.error({ msg: "scenario_terminate_failed", scenario: scenario.name, err: errorMessage(e) });
  }
}
