/** Run settings: split into node-setting overrides and scenario variables, resolved, and checked for a load shape. */
import { loadNodeSettings } from "../config/load.js";
import { isRunKey, isSettingKey, type NodeSettings } from "../config/schema.js";
import { resolveVariables } from "../config/variables.js";
import { UsageError, errorMessage } from "../errors.js";
import type { LoadedScenario } from "../scenario/loader.js";
import { compileShape, type LoadShape } from "../shapes/stages.js";

/** A scenario and settings checked and resolved, before any `init`. */
export interface ResolvedRun {
  scenario: LoadedScenario;
  settings: NodeSettings;
  vars: Record<string, unknown>;
}

/** What resolving run settings reads besides them: the node's environment, config-file variables and name. */
export interface SettingsSources {
  env: NodeJS.ProcessEnv;
  fileVariables: Record<string, unknown>;
  nodeName: string;
}

/** The node settings of a run (the node's, with the run keys given) and its scenario variables. */
export function resolveRunSettings(
  src: SettingsSources,
  scenario: LoadedScenario,
  settings: Record<string, unknown>,
): { settings: NodeSettings; vars: Record<string, unknown> } {
  const { nodeOverrides, variables } = splitSettings(settings);
  const runSettings = loadNodeSettings({ env: src.env, overrides: { ...nodeOverrides }, overridesLabel: "settings" });
  // open model: each arrival runs start() once, as k6 arrival-rate iterations do, unless repeat_num is given
  if (
    runSettings.arrival_rate.length > 0 &&
    !("repeat_num" in nodeOverrides) &&
    src.env.AMOC_REPEAT_NUM === undefined &&
    src.env.AMOC_repeat_num === undefined
  )
    runSettings.repeat_num = 1;
  compileRunShape(runSettings);
  const vars = resolveVariables(scenario.variables, {
    settings: variables,
    env: src.env,
    file: src.fileVariables,
    scenarioFile: scenario.file,
  });
  return { settings: { ...runSettings, node_name: src.nodeName }, vars };
}

/** The run's load shape, or undefined; a shape that does not compile is a usage error. */
export function compileRunShape(s: NodeSettings): LoadShape | undefined {
  try {
    return compileShape(s);
  } catch (e) {
    throw new UsageError(
      `bad load shape: ${errorMessage(e)}`,
      "give stages (closed model) or arrival_rate (open model), e.g. stages: [{duration: '60s', target: 1000}]",
    );
  }
}

/** The run settings a status shows: the run keys people change most, and the scenario variables. */
export function runSettingsView(s: NodeSettings, vars: Record<string, unknown>): Record<string, unknown> {
  return {
    interarrival: s.interarrival,
    repeat_num: s.repeat_num === Infinity ? "infinity" : s.repeat_num,
    repeat_interval: s.repeat_interval,
    ...vars,
  };
}

/** Splits run settings into node-setting overrides and scenario variables; node-only keys are refused. */
function splitSettings(settings: Record<string, unknown>): {
  nodeOverrides: Record<string, unknown>;
  variables: Record<string, unknown>;
} {
  const nodeOverrides: Record<string, unknown> = {};
  const variables: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(settings)) {
    if (isRunKey(k)) nodeOverrides[k] = v;
    else if (isSettingKey(k))
      throw new UsageError(
        `'${k}' is a node setting and cannot be set per run`,
        `set it for the node instead: AMOC_${k.toUpperCase()}=...`,
      );
    else variables[k] = v;
  }
  return { nodeOverrides, variables };
}
