/** Scenario variables: declared by a scenario, resolved run settings > env > config file > default, then verified. */
import { AmocError, ScenarioError } from "../errors.js";
import { parseBool } from "./parse.js";
import { envName, isSettingKey } from "./schema.js";

/** One declared variable. `verify` returns true, or false / a reason string when the value is wrong. */
export interface VariableDecl<T = unknown> {
  default: T;
  doc: string;
  verify?: (value: T) => boolean | string;
  /** May be changed during a run with `update_settings`; read-only otherwise. */
  updatable?: boolean;
}

export type VariableDecls = Record<string, VariableDecl<any>>;

/** The values of a set of declarations, typed after their defaults. */
export type VariableValues<D extends VariableDecls> = { readonly [K in keyof D]: D[K]["default"] };

/** Declares a scenario's variables; the identity function, there for type inference. */
export function defineVariables<const D extends VariableDecls>(decls: D): D {
  return decls;
}

/** Parses a string (env, `--set`, REST) into the type of the variable's default. */
export function parseVariable(
  decl: VariableDecl,
  raw: unknown,
): { ok: true; value: unknown } | { ok: false; reason: string } {
  const d = decl.default;
  if (typeof raw !== "string") {
    if (typeof d === "number" && raw === "infinity") return { ok: true, value: Infinity };
    return typeof d === typeof raw || d === null || d === undefined
      ? { ok: true, value: raw }
      : { ok: false, reason: `must be a ${typeof d}` };
  }
  if (typeof d === "number") {
    const s = raw.trim().toLowerCase();
    const n = s === "infinity" ? Infinity : Number(s);
    return s !== "" && !Number.isNaN(n) ? { ok: true, value: n } : { ok: false, reason: "must be a number" };
  }
  if (typeof d === "boolean") {
    const b = parseBool(raw);
    return b === undefined ? { ok: false, reason: "must be a boolean (true/false, 1/0)" } : { ok: true, value: b };
  }
  if (typeof d === "object" && d !== null) {
    try {
      return { ok: true, value: JSON.parse(raw) };
    } catch {
      return { ok: false, reason: "must be JSON" };
    }
  }
  return { ok: true, value: raw };
}

/** Runs a declaration's `verify`, turning throws and false into a reason. */
export function verifyVariable(decl: VariableDecl, value: unknown): string | undefined {
  if (!decl.verify) return undefined;
  try {
    const r = decl.verify(value);
    if (r === true) return undefined;
    return typeof r === "string" ? r : "failed verification";
  } catch (e) {
    return `failed verification: ${(e as Error).message}`;
  }
}

/** Where variable values come from. */
export interface VariableSources {
  settings: Record<string, unknown>;
  env: NodeJS.ProcessEnv;
  file: Record<string, unknown>;
  /** Names the scenario in errors. */
  scenarioFile: string;
}

/** Resolves and verifies every declared variable; an undeclared run setting or a bad value is an error naming both. */
export function resolveVariables(decls: VariableDecls, src: VariableSources): Record<string, unknown> {
  const problems: string[] = [];
  for (const k of Object.keys(src.settings)) {
    if (!Object.hasOwn(decls, k))
      problems.push(
        `'${k}' is not declared by ${src.scenarioFile} (declared: ${Object.keys(decls).join(", ") || "none"})`,
      );
  }
  if (problems.length)
    throw new ScenarioError(
      "VARIABLE_UNDECLARED",
      `unknown setting: ${problems.join("; ")}`,
      "remove it, or declare it in the scenario's `variables`",
    );
  const values: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(decls)) {
    let raw: unknown = decl.default;
    let source = "default";
    if (Object.hasOwn(src.settings, name)) {
      raw = src.settings[name];
      source = `setting ${name}`;
    } else if (src.env[envName(name)] !== undefined && src.env[envName(name)] !== "") {
      raw = src.env[envName(name)];
      source = envName(name);
    } else if (src.env[`AMOC_${name}`] !== undefined && src.env[`AMOC_${name}`] !== "") {
      raw = src.env[`AMOC_${name}`];
      source = `AMOC_${name}`;
    } else if (Object.hasOwn(src.file, name)) {
      raw = src.file[name];
      source = `config file variables.${name}`;
    }
    const parsed = parseVariable(decl, raw);
    if (!parsed.ok) {
      problems.push(`${source}: variable '${name}' ${parsed.reason}, got ${JSON.stringify(raw)}`);
      continue;
    }
    const bad = verifyVariable(decl, parsed.value);
    if (bad) problems.push(`${source}: variable '${name}' ${bad}, got ${JSON.stringify(raw)}`);
    values[name] = parsed.value;
  }
  if (problems.length) {
    throw new ScenarioError(
      "VARIABLE_INVALID",
      `invalid variables of ${src.scenarioFile}:\n  - ${problems.join("\n  - ")}`,
      "fix the values named above (each variable's doc says what it expects)",
    );
  }
  return values;
}

/** Checks a declaration set itself: shape, and no clash with node settings. */
export function checkDeclarations(decls: unknown, file: string): VariableDecls {
  if (decls === undefined) return {};
  if (typeof decls !== "object" || decls === null)
    throw new ScenarioError(
      "SCENARIO_INVALID",
      `${file}: 'variables' must be an object`,
      "export const variables = defineVariables({...})",
    );
  for (const [name, d] of Object.entries(decls as Record<string, unknown>)) {
    if (typeof d !== "object" || d === null || !("default" in d) || typeof (d as VariableDecl).doc !== "string") {
      throw new ScenarioError(
        "SCENARIO_INVALID",
        `${file}: variable '${name}' needs a 'default' and a 'doc'`,
        'declare it as { default: ..., doc: "..." }',
      );
    }
    if (isSettingKey(name))
      throw new ScenarioError(
        "SCENARIO_INVALID",
        `${file}: variable '${name}' clashes with the node setting of the same name`,
        "rename the variable",
      );
    const bad = verifyVariable(d as VariableDecl, (d as VariableDecl).default);
    if (bad)
      throw new ScenarioError(
        "SCENARIO_INVALID",
        `${file}: the default of variable '${name}' ${bad}`,
        "fix the default or the verify function",
      );
  }
  return decls as VariableDecls;
}

/** Validates an update: only declared, updatable variables; returns the parsed values. */
export function checkUpdate(
  decls: VariableDecls,
  update: Record<string, unknown>,
  scenarioFile: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [k, raw] of Object.entries(update)) {
    const decl = decls[k];
    if (!decl) {
      problems.push(`'${k}' is not a variable of ${scenarioFile}`);
      continue;
    }
    if (!decl.updatable) {
      problems.push(`'${k}' is read-only during a run`);
      continue;
    }
    const p = parseVariable(decl, raw);
    if (!p.ok) {
      problems.push(`'${k}' ${p.reason}`);
      continue;
    }
    const bad = verifyVariable(decl, p.value);
    if (bad) problems.push(`'${k}' ${bad}`);
    else out[k] = p.value;
  }
  if (problems.length) {
    const readOnly = problems.every((p) => p.endsWith("read-only during a run"));
    throw new AmocError(
      readOnly ? "VARIABLE_READ_ONLY" : "VARIABLE_INVALID",
      `cannot update settings: ${problems.join("; ")}`,
      "only variables declared with `updatable: true` can change during a run",
    );
  }
  return out;
}
