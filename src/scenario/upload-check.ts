/**
 * Checks uploaded scenario source before it is stored: compiles it with esbuild (the transpiler tsx uses), allows
 * imports of `amoc-ts`, `amoc-ts/xmpp`, `amoc-ts/xmppjs` and Node built-ins only, then loads it in a child process
 * with a time limit and checks its exports and the defaults of its variables there. Every problem comes back with
 * file, line, column and message. None of this is a sandbox: an uploaded scenario runs with the node's rights (the
 * check itself runs its top-level code, in the child), and the import rule only keeps scenarios self-contained.
 */
import { fork } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire, isBuiltin } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build, type Message, type Plugin } from "esbuild";
import { UPLOAD_NAME_RE } from "../config/names.js";
import { AmocError, errorMessage } from "../errors.js";
import { sourceVersion } from "../source-version.js";
import type { CheckRequest } from "./upload-check-child.js";

// the rule lives in config/names.ts; node/uploads.ts and api/rest/schemas.ts still import it from here
export { UPLOAD_NAME_RE } from "../config/names.js";

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
    super(
      "UPLOAD_INVALID",
      problems.length
        ? `${message}:\n${problems.map((p) => `  ${p.file}:${p.line}:${p.column}: ${p.message}`).join("\n")}`
        : message,
      hint,
    );
    this.problems = problems;
  }
  override toJSON(): { code: "UPLOAD_INVALID"; message: string; hint: string; problems: UploadProblem[] } {
    return { code: "UPLOAD_INVALID", message: this.message, hint: this.hint, problems: this.problems };
  }
}

/** Throws UploadError unless `name` can name an uploaded scenario. */
export function checkUploadName(name: unknown): asserts name is string {
  if (typeof name !== "string" || !UPLOAD_NAME_RE.test(name)) {
    throw new UploadError(
      `${JSON.stringify(name)} cannot name a scenario`,
      [],
      "use 1 to 64 letters, digits and '_' (no paths, dots or dashes): ?name=my_scenario",
    );
  }
}

/** Why the import rule exists, in every message about it: hygiene, not protection. */
const IMPORT_RULE =
  "uploads import only 'amoc-ts', 'amoc-ts/xmpp', 'amoc-ts/xmppjs' and Node built-ins (this keeps scenarios self-contained; it is not a sandbox: an uploaded scenario runs with the node's rights)";

/** Refuses relative, absolute and unknown imports with a message naming the import (esbuild adds its place). */
const importGuard: Plugin = {
  name: "amoc-upload-imports",
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      const spec = args.path;
      if (ALLOWED_IMPORTS.has(spec) || spec.startsWith("node:") || isBuiltin(spec))
        return { path: spec, external: true };
      if (spec.startsWith(".") || spec.startsWith("/")) {
        return {
          errors: [{ text: `import '${spec}' is not allowed: an uploaded scenario is one file; ${IMPORT_RULE}` }],
        };
      }
      return { errors: [{ text: `import '${spec}' does not resolve: ${IMPORT_RULE}` }] };
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
    await build({
      stdin: { contents: source, loader: "ts", sourcefile: file },
      bundle: true,
      write: false,
      format: "esm",
      platform: "node",
      target: "node20",
      logLevel: "silent",
      plugins: [importGuard],
    });
    return [];
  } catch (e) {
    const errors = (e as { errors?: Message[] }).errors;
    if (Array.isArray(errors) && errors.length) return errors.map((m) => problemOf(file, m));
    return [{ file, line: 0, column: 0, message: errorMessage(e) }];
  }
}

/** How long loading an upload may take in its child process before it is killed and the upload refused. */
export const UPLOAD_LOAD_TIMEOUT_MS = 10_000;

const CHILD = fileURLToPath(new URL("./upload-check-child.ts", import.meta.url));
/** The child resolves `amoc-ts` as `bin/amoc` does: tsx first, then this checkout's resolve hook. */
const CHILD_EXEC_ARGV = [
  "--import",
  pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href,
  "--import",
  new URL("./register-hooks.ts", import.meta.url).href,
];
/** How much of the child's stderr a problem quotes when the child dies without answering. */
const STDERR_TAIL = 2000;

/** The end of the child's stderr (where a crash says why), at most STDERR_TAIL characters. */
function tail(text: string): string {
  const t = text.trim();
  return t.length > STDERR_TAIL ? `...${t.slice(-STDERR_TAIL)}` : t;
}

/**
 * Loads the source in a child process (upload-check-child.ts) and checks its exports and variables there: loading
 * runs the upload's top-level code, which must not run in the node (a top-level `while (true) {}` would freeze its
 * REST API, heartbeats and running users). The child is killed after `timeoutMs`. The child has the node's rights:
 * this keeps the node responsive, it does not contain what the code does.
 */
export async function loadProblems(
  name: string,
  source: string,
  workDir: string,
  o: { timeoutMs?: number } = {},
): Promise<UploadProblem[]> {
  const file = `${name}.ts`;
  const timeoutMs = o.timeoutMs ?? UPLOAD_LOAD_TIMEOUT_MS;
  const one = (message: string): UploadProblem[] => [{ file, line: 0, column: 0, message }];
  mkdirSync(workDir, { recursive: true });
  const child = fork(CHILD, ["--amoc-upload-check"], {
    execArgv: CHILD_EXEC_ARGV,
    stdio: ["ignore", "ignore", "pipe", "ipc"],
  });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr = (stderr + d).slice(-4 * STDERR_TAIL)));
  return new Promise<UploadProblem[]>((resolveP) => {
    let done = false;
    const finish = (problems: UploadProblem[]) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      resolveP(problems);
    };
    const timer = setTimeout(
      () =>
        finish(one(`the scenario did not finish loading within ${timeoutMs / 1000} s: a top-level loop or a wait?`)),
      timeoutMs,
    );
    child.on("message", (m: unknown) => {
      const problems = (m as { problems?: unknown } | null)?.problems;
      finish(Array.isArray(problems) ? (problems as UploadProblem[]) : one("the check's process answered nonsense"));
    });
    child.on("error", (e) => finish(one(`the check's process failed: ${errorMessage(e)}`)));
    child.on("exit", (code, signal) => {
      // stderr may still hold the last words: read them once the stream ends
      const report = () =>
        finish(
          one(
            `loading ended the check's process (${signal ? `signal ${signal}` : `exit code ${code}`}) before it finished${stderr.trim() ? `: ${tail(stderr)}` : ""}`,
          ),
        );
      if (child.stderr && !child.stderr.readableEnded) child.stderr.once("end", report);
      else report();
    });
    child.send({ name, source, workDir } satisfies CheckRequest, (e) => {
      if (e) finish(one(`the check's process could not be reached: ${errorMessage(e)}`));
    });
  });
}

/**
 * Checks a named upload end to end; returns its version, or throws UploadError listing every problem. Only a
 * version this accepts is ever imported by the node itself.
 */
export async function checkUpload(
  name: unknown,
  source: string,
  workDir: string,
  o: { timeoutMs?: number } = {},
): Promise<string> {
  checkUploadName(name);
  if (Buffer.byteLength(source) > UPLOAD_MAX_BYTES)
    throw new UploadError(`the source is larger than ${UPLOAD_MAX_BYTES} bytes`, [], "split the scenario or trim it");
  if (source.trim() === "")
    throw new UploadError(
      "the source is empty",
      [],
      "send the scenario's TypeScript source as the request body (curl -T my_scenario.ts ...)",
    );
  const compiled = await compileProblems(name, source);
  if (compiled.length) throw new UploadError(`scenario ${name} does not compile`, compiled);
  const loaded = await loadProblems(name, source, workDir, o);
  if (loaded.length) throw new UploadError(`scenario ${name} does not load`, loaded);
  return sourceVersion(source);
}
