/** Turns an error from importing a scenario into a message naming what failed and a hint that fits the cause. */
import { errorMessage } from "../errors.js";
import { PACKAGE_ENTRIES } from "./package-entries.js";

/** What a user reads when a scenario cannot be imported. */
export interface ImportFailure {
  message: string;
  hint: string;
}

const ENTRIES = Object.keys(PACKAGE_ENTRIES).join(" and ");

/** Classifies an import error of scenario `file`: a missing package, a missing file, a syntax error, or a throw. */
export function describeImportFailure(e: unknown, file: string): ImportFailure {
  const raw = errorMessage(e);
  const code = (e as { code?: unknown } | null)?.code;
  const importer = /imported from '?([^'\n]+?)'?$/m.exec(raw)?.[1]?.trim() ?? file;
  const pkg = /Cannot find package '([^']+)'/.exec(raw)?.[1];
  const mod = /Cannot find module '([^']+)'/.exec(raw)?.[1] ?? /Failed to load url (\S+)/.exec(raw)?.[1];
  if (
    pkg !== undefined ||
    ((code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") && mod !== undefined && !isPath(mod))
  ) {
    const name = pkg ?? (mod as string);
    const ours = name === "amoc-ts" || name.startsWith("amoc-ts/");
    return {
      message: `cannot load scenario ${file}: ${importer} imports '${name}', which cannot be resolved${ours ? ` (${raw})` : ""}`,
      hint: ours
        ? `scenarios import ${ENTRIES}; run the scenario with bin/amoc (it registers those entries for files anywhere)`
        : `a scenario may import ${ENTRIES}, node: built-ins and packages installed where the importing file is (npm install ${packageName(name)} in its directory, or in the amoc-ts checkout)`,
    };
  }
  if (mod !== undefined && (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND" || isPath(mod))) {
    return {
      message: `cannot load scenario ${file}: ${importer} imports '${mod}', which does not exist`,
      hint: "check the path of that import: relative imports are resolved from the importing file (./helper.js names helper.ts)",
    };
  }
  if (/does not provide an export named/.test(raw)) {
    return {
      message: `cannot load scenario ${file}: ${raw}`,
      hint: "import only names the module exports (check the spelling, or use import type for types)",
    };
  }
  if (/Transform failed|SyntaxError|Unexpected|Expected/.test(raw) || e instanceof SyntaxError) {
    return { message: `cannot load scenario ${file}: ${raw}`, hint: "fix the syntax error at the position shown" };
  }
  return {
    message: `cannot load scenario ${file}: its top-level code threw: ${raw}`,
    hint: "fix the scenario's top-level code (it runs once, when the scenario is loaded)",
  };
}

function isPath(spec: string): boolean {
  return spec.startsWith("/") || spec.startsWith(".") || spec.startsWith("file:");
}

/** `@scope/pkg/sub` -> `@scope/pkg`, `pkg/sub` -> `pkg`. */
function packageName(spec: string): string {
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
}
