/**
 * Where a crash happened in the scenario: the first stack frame outside amoc's own code, Node's internals and
 * node_modules, as `file:line:column`. Scenarios run under tsx, which maps stack frames back to the TypeScript
 * source, so the line is the one the author wrote.
 */
import { relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** amoc's own source folder (src/): frames in it are the helpers a scenario called, not the scenario. */
const OWN_SRC = fileURLToPath(new URL("../", import.meta.url));

/** `at fn (file:line:col)` or `at file:line:col`: the location part of one stack line. */
const FRAME = /^\s*at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/;

/** The scenario's `file:line:column` in the error's stack (relative to `cwd` when under it), or undefined. */
export function crashWhere(error: unknown, cwd = process.cwd()): string | undefined {
  const stack = typeof error === "object" && error !== null ? (error as { stack?: unknown }).stack : undefined;
  if (typeof stack !== "string") return undefined;
  for (const line of stack.split("\n").slice(1)) {
    const m = FRAME.exec(line);
    if (!m) continue;
    let file = (m[1] as string).replace(/\?.*$/, "");
    if (file.startsWith("file://")) file = fileURLToPath(file);
    if (!file.startsWith("/") || file.startsWith(OWN_SRC) || file.includes(`${sep}node_modules${sep}`)) continue;
    const rel = relative(cwd, file);
    const shown = rel && !rel.startsWith("..") ? rel : file;
    return `${shown}:${m[2]}:${m[3]}`;
  }
  return undefined;
}
