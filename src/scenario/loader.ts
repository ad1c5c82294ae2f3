/**
 * Finds and imports scenario modules by name (from the scenarios directory) or by path, and checks their shape.
 * A file edited since its first import is imported again under a version query, so `do` runs the new code.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { basename, extname, isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { SCENARIO_NAME_RE } from "../config/names.js";
import { checkDeclarations, type VariableDecls } from "../config/variables.js";
import { ScenarioError } from "../errors.js";
import type { ScenarioModule } from "./api.js";
import { isScenarioObject } from "./define.js";
import { describeImportFailure } from "./import-failure.js";

const EXTENSIONS = [".ts", ".mts", ".js", ".mjs"];

/** A scenario ready to run. */
export interface LoadedScenario {
  name: string;
  file: string;
  module: ScenarioModule;
  variables: VariableDecls;
}

/** Names of the scenarios in a directory (files without a leading underscore). */
export function listScenarios(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => EXTENSIONS.includes(extname(f)) && !f.startsWith("_") && !f.endsWith(".d.ts"))
    .map((f) => basename(f, extname(f)))
    .sort();
}

/** Resolves a scenario reference to a file: a name looked up in `dir`, or a path. */
export function resolveScenarioFile(ref: string, dir: string): string {
  const looksLikePath = ref.includes("/") || EXTENSIONS.includes(extname(ref));
  if (looksLikePath) {
    const p = isAbsolute(ref) ? ref : resolve(ref);
    if (existsSync(p)) return p;
    throw new ScenarioError("SCENARIO_NOT_FOUND", `scenario file ${ref} does not exist`, "check the path");
  }
  if (!SCENARIO_NAME_RE.test(ref)) {
    throw new ScenarioError(
      "SCENARIO_NOT_FOUND",
      `'${ref}' is not a scenario name`,
      `available: ${listScenarios(dir).join(", ") || "none"}`,
    );
  }
  for (const ext of EXTENSIONS) {
    const p = resolve(dir, ref + ext);
    if (existsSync(p)) return p;
  }
  throw new ScenarioError(
    "SCENARIO_NOT_FOUND",
    `unknown scenario '${ref}' (looked in ${dir})`,
    `available scenarios: ${listScenarios(dir).join(", ") || "none"}; or give a path to a .ts file`,
  );
}

/** The content hash of each scenario file when this process first imported it. */
const firstHash = new Map<string, string>();

/**
 * The URL to import `file` under: the plain file URL while its content is what was first imported (so the module
 * stays the one instance other importers share), else the URL with `?amoc_v=<content hash>`: a new module, as ESM
 * caches by URL. Each edited version stays in the cache (one module per distinct content).
 */
export function scenarioImportUrl(file: string): string {
  const url = pathToFileURL(file).href;
  let hash: string;
  try {
    hash = createHash("sha256").update(readFileSync(file)).digest("hex").slice(0, 16);
  } catch {
    return url; // the import reports the unreadable file
  }
  const first = firstHash.get(file);
  if (first === undefined) {
    firstHash.set(file, hash);
    return url;
  }
  return first === hash ? url : `${url}?amoc_v=${hash}`;
}

/** Imports a scenario and checks it exports `start` and well-formed `variables`. */
export async function loadScenario(ref: string, dir: string): Promise<LoadedScenario> {
  const file = resolveScenarioFile(ref, dir);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(scenarioImportUrl(file))) as Record<string, unknown>;
  } catch (e) {
    const { message, hint } = describeImportFailure(e, file);
    throw new ScenarioError("SCENARIO_INVALID", message, hint, { cause: e });
  }
  // `export default defineScenario({...})`: the default export is the module
  if (typeof mod.start !== "function" && isScenarioObject(mod.default))
    mod = mod.default as unknown as Record<string, unknown>;
  if (typeof mod.start !== "function") {
    throw new ScenarioError(
      "SCENARIO_INVALID",
      `scenario ${file} does not export a start function`,
      "add `export async function start(id, state, ctx) { ... }`",
    );
  }
  for (const cb of ["init", "terminate"] as const) {
    if (mod[cb] !== undefined && typeof mod[cb] !== "function") {
      throw new ScenarioError(
        "SCENARIO_INVALID",
        `scenario ${file}: export '${cb}' is not a function`,
        `export it as a function or remove it`,
      );
    }
  }
  const variables = checkDeclarations(mod.variables, file);
  const name = basename(file, extname(file));
  return { name, file, module: mod as unknown as ScenarioModule, variables };
}
