/** Scenario listing and details for the Node API, read from this node's scenarios directory. */
import { listScenarios, loadScenario } from "../../scenario/loader.js";
import type { ScenarioDetails, ScenarioSummary } from "./types.js";

/** The built-in scenarios of a directory. */
export function builtinScenarios(dir: string): ScenarioSummary[] {
  return listScenarios(dir).map((name) => ({ name, source: "builtin" as const }));
}

/** One scenario's declared variables (loads the module; SCENARIO_NOT_FOUND / SCENARIO_INVALID otherwise). */
export async function scenarioDetails(name: string, dir: string): Promise<ScenarioDetails> {
  const s = await loadScenario(name, dir);
  const variables = Object.entries(s.variables).map(([vname, d]) => ({
    name: vname,
    doc: d.doc,
    default: d.default as unknown,
    updatable: d.updatable === true,
  }));
  return { name: s.name, source: "builtin", variables };
}
