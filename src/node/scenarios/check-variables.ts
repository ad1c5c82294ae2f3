/** The start form's inline check: each given value parsed and verified against the scenario's declaration. */
import { isSettingKey } from "../../config/schema.js";
import { parseVariable, verifyVariable, type VariableDecls } from "../../config/variables.js";
import type { VariableProblem } from "./types.js";

/** Every problem of `settings` against `decls` (node settings such as interarrival are left to the run). */
export function checkVariables(decls: VariableDecls, settings: Record<string, unknown>): VariableProblem[] {
  const out: VariableProblem[] = [];
  for (const [key, raw] of Object.entries(settings)) {
    const decl = decls[key];
    if (!decl) {
      if (!isSettingKey(key)) out.push({ key, message: "the scenario declares no such variable" });
      continue;
    }
    const p = parseVariable(decl, raw);
    if (!p.ok) {
      out.push({ key, message: p.reason });
      continue;
    }
    const bad = verifyVariable(decl, p.value);
    if (bad) out.push({ key, message: bad });
  }
  return out;
}
