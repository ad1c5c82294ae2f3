/**
 * Checks uploaded scenario source before it is stored: compiles it with esbuild (the transpiler tsx uses), allows
 * imports of `amoc-ts`, `amoc-ts/xmpp` and Node built-ins only, then loads it and checks its exports and the
 * defaults of its variables. Every problem comes back with file, line, column and message.
 */
import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { isBuiltin } from "node:module";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build, type Message, type Plugin } from "esbuild";
import { checkDeclarations, verifyVariable, type VariableDecl } from "../config/variables.js";
import { AmocError, errorMessage } from "../errors.js";
import { isScenarioObject } from "./define.js";

/** Names of uploaded scenarios: letters, digits and `_` (no paths, no dots). */
export const UPLOAD_NAME_RE = /^(?!__proto__$)[A-Za-z0-9_]{1,64}$/;

/** The largest source accepted, in bytes. */
export const UPLOAD_MAX_BYTES = 1024 * 1024;

/** The only project modules an uploaded scenario may import. */
const ALLOWED_IMPORTS = new Set(["amoc-ts", "amoc-ts/xmpp", "amoc-ts/xmppjs"]);

/** One problem in an upload; `line` and `column` are 1-based (0 when the problem has no place in the source). */
export interface UploadProblem {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** An upload was refused: a bad name, or source that does not compile or load; `problems` lists each. */
export class UploadError extends AmocError {
  readonly problems: UploadProblem[];
  constructor(message: string, problems: UploadProblem[], hint = "fix the problems listed and upload again") {
    super("UPLOAD_INVALID", problems.length ? `${message}:\n${problems.map((p) => `  ${p.file}:${p.line}:${p.column}: ${p.message}`).join("\n")}` : message, hint);
    this.problems = problems;
  }
  override toJSON(): { code: "UPLOAD_INVALID"; message: string; hint: string; problems: UploadProblem[] } {
    return { code: "UPLOAD_INVALID", message: this.message, hint: this.hint, problems: this.problems };
  }
}

/** The version of a source: the first 16 hex digits of its SHA-256. */
export function sourceVersion(source: string): string {
  return createHash("sha256").update(source).digest("hex").slice(0, 16);
}

/** Throws UploadError unless `name` can name an uploaded scenario. */
export function checkUploadName(name: unknown): asserts name is string {
  if (typeof name !== "string" || !UPLOAD_NAME_RE.test(name)) {
    throw new UploadError(`${JSON.stringify(name)} cannot name a scenario`, [], "use 1 to 64 letters, digits and '_' (no paths, dots or dashes): ?name=my_scenario");
  }
}

/** Refuses relative, absolute and unknown imports with a message naming the import (esbuild adds its place). */
const importGuard: Plugin = {
  name: "amoc-upload-imports",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      const spec = args.path;
      if (ALLOWED_IMPORTS.has(spec) || spec.startsWith("node:") || isBuiltin(spec)) return { path: spec, external: true };
      if (spec.startsWith(".") || spec.startsWith("/")) {
        return { errors: [{ text: `import '${spec}' is not allowed: an uploaded scenario is one file and may import only 'amoc-ts', 'amoc-ts/xmpp' and Node built-ins` }] };
      }
      return { errors: [{ text: `import '${spec}' does not resolve: an uploaded scenario may import only 'amoc-ts', 'amoc-ts/xmpp' and Node built-ins` }] };
    });
  },
};

function problemOf(file: string, m: Message): UploadProblem {
  return { file, line: m.location?.line ?? 0, column: m.location ? m.location.column + 1 : 0, message: m.text };
}

/** Compiles the source (syntax, types stripped, imports checked); problems for every error esbuild reports. */
export async function compileProblems(name: string, source: string): Promise<UploadProblem[]> {
  const file = `${name}.ts`;
  try {
    await build({ stdin: { contents: source, loader: "ts", sourcefile: file }, bundle: true, write: false, format: "esm", platform: "node", target: "node20", logLevel: "silent", plugins: [importGuard] });
    return [];
  } catch (e) {
    const errors = (e as { errors?: Message[] }).errors;
    if (Array.isArray(errors) && errors.length) return errors.map((m) => problemOf(file, m));
    return [{ file, line: 0, column: 0, message: errorMessage(e) }];
  }
}

/** Where a load error points into the checked file (from its stack), else nowhere. */
function placeInStack(e: unknown, path: string): { line: number; column: number } {
  const stack = e instanceof Error ? (e.stack ?? "") : "";
  const base = path.split("/").pop() as string;
  const m = new RegExp(`${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:(\\d+):(\\d+)`).exec(stack);
  return m ? { line: Number(m[1]), column: Number(m[2]) } : { line: 0, column: 0 };
}

/** Loads the source from a scratch file under `workDir` and checks `start`, `init`, `terminate` and the variables. */
export async function loadProblems(name: string, source: string, workDir: string): Promise<UploadProblem[]> {
  const file = `${name}.ts`;
  const dir = join(workDir, `check-${randomUUID().slice(0, 8)}`);
  const path = join(dir, file);
  mkdirSync(dir, { recursive: true });
  try {
    writeFileSync(path, source);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
    } catch (e) {
      return [{ file, ...placeInStack(e, path), message: `loading failed: ${errorMessage(e)}` }];
    }
    if (typeof mod.start !== "function" && isScenarioObject(mod.default)) mod = mod.default as unknown as Record<string, unknown>; // defineScenario
    const problems: UploadProblem[] = [];
    const at = (message: string) => problems.push({ file, line: 0, column: 0, message });
    if (typeof mod.start !== "function") at("no `start` export: add `export async function start(id, state, ctx) { ... }`");
    for (const cb of ["init", "terminate"] as const) if (mod[cb] !== undefined && typeof mod[cb] !== "function") at(`export '${cb}' is not a function`);
    // every default that fails its verify is named (checkDeclarations stops at the first problem)
    if (typeof mod.variables === "object" && mod.variables !== null) {
      for (const [vname, decl] of Object.entries(mod.variables as Record<string, VariableDecl>)) {
        const bad = typeof decl === "object" && decl !== null && "default" in decl ? verifyVariable(decl, decl.default) : undefined;
        if (bad) at(`variable '${vname}': its default ${JSON.stringify(decl.default)} fails verify: ${bad}`);
      }
    }
    if (problems.length === 0) {
      try {
        checkDeclarations(mod.variables, file);
      } catch (e) {
        at(errorMessage(e));
      }
    }
    return problems;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Checks a named upload end to end; returns its version, or throws UploadError listing every problem. */
export async function checkUpload(name: unknown, source: string, workDir: string): Promise<string> {
  checkUploadName(name);
  if (Buffer.byteLength(source) > UPLOAD_MAX_BYTES) throw new UploadError(`the source is larger than ${UPLOAD_MAX_BYTES} bytes`, [], "split the scenario or trim it");
  if (source.trim() === "") throw new UploadError("the source is empty", [], "send the scenario's TypeScript source as the request body (curl -T my_scenario.ts ...)");
  const compiled = await compileProblems(name, source);
  if (compiled.length) throw new UploadError(`scenario ${name} does not compile`, compiled);
  const loaded = await loadProblems(name, source, workDir);
  if (loaded.length) throw new UploadError(`scenario ${name} does not load`, loaded);
  return sourceVersion(source);
}
