/**
 * The child process of the upload check (upload-check.ts forks it with tsx and the `amoc-ts` resolve hook): it loads
 * one uploaded source from a scratch file and checks its exports and the defaults of its variables, then sends the
 * problems to its parent and exits. Loading runs the upload's top-level code, here and not in the node, so a
 * top-level loop or wait costs the node nothing: the parent kills this process when its time is up. It is not a
 * sandbox: this process has the node's user, environment and files.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { checkDeclarations, verifyVariable, type VariableDecl } from "../config/variables.js";
import { errorMessage } from "../errors.js";
import { isScenarioObject } from "./define.js";
import type { UploadProblem } from "./upload-check.js";

/** What the parent sends: the one upload to check. */
export interface CheckRequest {
  name: string;
  source: string;
  workDir: string;
}

/** What the child answers. */
export interface CheckReply {
  problems: UploadProblem[];
}

/** Where a load error points into the checked file (from its stack), else nowhere. */
function placeInStack(e: unknown, path: string): { line: number; column: number } {
  const stack = e instanceof Error ? (e.stack ?? "") : "";
  const base = path.split("/").pop() as string;
  const m = new RegExp(`${base.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:(\\d+):(\\d+)`).exec(stack);
  return m ? { line: Number(m[1]), column: Number(m[2]) } : { line: 0, column: 0 };
}

/** Loads the source from a scratch file under `workDir` and checks `start`, `init`, `terminate` and the variables. */
export async function loadProblemsInThisProcess(
  name: string,
  source: string,
  workDir: string,
): Promise<UploadProblem[]> {
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
    if (typeof mod.start !== "function" && isScenarioObject(mod.default))
      mod = mod.default as unknown as Record<string, unknown>; // defineScenario
    const problems: UploadProblem[] = [];
    const at = (message: string) => problems.push({ file, line: 0, column: 0, message });
    if (typeof mod.start !== "function")
      at("no `start` export: add `export async function start(id, state, ctx) { ... }`");
    for (const cb of ["init", "terminate"] as const)
      if (mod[cb] !== undefined && typeof mod[cb] !== "function") at(`export '${cb}' is not a function`);
    // every default that fails its verify is named (checkDeclarations stops at the first problem)
    if (typeof mod.variables === "object" && mod.variables !== null) {
      for (const [vname, decl] of Object.entries(mod.variables as Record<string, VariableDecl>)) {
        const bad =
          typeof decl === "object" && decl !== null && "default" in decl
            ? verifyVariable(decl, decl.default)
            : undefined;
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

function isRequest(m: unknown): m is CheckRequest {
  const r = m as Partial<CheckRequest> | null;
  return (
    typeof r === "object" &&
    r !== null &&
    typeof r.name === "string" &&
    typeof r.source === "string" &&
    typeof r.workDir === "string"
  );
}

// only when forked by the parent (an IPC channel); importing this module elsewhere (tests) does nothing
if (process.send && process.argv.includes("--amoc-upload-check")) {
  process.once("message", (m: unknown) => {
    if (!isRequest(m)) process.exit(70);
    void loadProblemsInThisProcess(m.name, m.source, m.workDir)
      .catch((e: unknown): UploadProblem[] => [
        { file: `${m.name}.ts`, line: 0, column: 0, message: `the check failed: ${errorMessage(e)}` },
      ])
      // exit even when the upload left timers or sockets open at its top level
      .then((problems) => process.send?.({ problems } satisfies CheckReply, () => process.exit(0)));
  });
}
