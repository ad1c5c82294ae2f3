/**
 * Node module resolve hook (registered by register-hooks.ts, after tsx), for scenarios anywhere:
 * - `amoc-ts` and `amoc-ts/xmpp` resolve to this checkout's entries from any importer, so a scenario in /tmp or an
 *   uploaded one imports the package like a scenario in scenarios/ does;
 * - a `.ts` file outside any `"type": "module"` package (e.g. /tmp/s/hello.ts, no package.json) is an ES module,
 *   as every scenario is; left to tsx it would be compiled to CommonJS, whose require() this hook cannot see.
 * Every other specifier goes to the next hook (tsx, then Node).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { resolvePackageEntry } from "./package-entries.js";

interface ResolveContext {
  parentURL?: string;
}
interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context: ResolveContext) => ResolveResult | Promise<ResolveResult>;

/** The resolve hook: our entries first, then scope-less TypeScript files, the rest unchanged. */
export async function resolve(
  specifier: string,
  context: ResolveContext,
  nextResolve: NextResolve,
): Promise<ResolveResult> {
  const entry = resolvePackageEntry(specifier);
  if (entry) return { url: entry, format: "module", shortCircuit: true };
  const own = scopelessTypeScript(specifier, context.parentURL);
  if (own) return { url: own, format: "module", shortCircuit: true };
  return nextResolve(specifier, context);
}

/** The URL of a `.ts` file (path, file URL or relative import) outside any package that declares its `type`. */
export function scopelessTypeScript(specifier: string, parentURL: string | undefined): string | undefined {
  let target: URL;
  if (specifier.startsWith("file:")) target = new URL(specifier);
  else if (specifier.startsWith("/")) target = pathToFileURL(specifier);
  else if ((specifier.startsWith("./") || specifier.startsWith("../")) && parentURL?.startsWith("file:"))
    target = new URL(specifier, parentURL);
  else return undefined;
  const suffix = target.search + target.hash;
  target.search = "";
  target.hash = "";
  const path = fileURLToPath(target);
  if (path.includes("/node_modules/")) return undefined;
  // tsx's convention: `./x.js` may name `./x.ts`; an extensionless import may too
  const file = [path, path.replace(/\.js$/, ".ts"), `${path}.ts`].find(
    (p) => p.endsWith(".ts") && !p.endsWith(".d.ts") && isFile(p),
  );
  if (!file || packageType(dirname(file)) !== undefined) return undefined;
  return pathToFileURL(file).href + suffix;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

const typeByDir = new Map<string, string | undefined>();

/** The `type` of the nearest package.json above `dir` (undefined: none, or it declares no type). */
function packageType(dir: string): string | undefined {
  if (typeByDir.has(dir)) return typeByDir.get(dir);
  let type: string | undefined;
  const pj = join(dir, "package.json");
  if (existsSync(pj)) {
    try {
      const t = (JSON.parse(readFileSync(pj, "utf8")) as { type?: unknown }).type;
      type = typeof t === "string" ? t : undefined;
    } catch {
      type = undefined;
    }
  } else {
    const up = dirname(dir);
    type = up === dir ? undefined : packageType(up);
  }
  typeByDir.set(dir, type);
  return type;
}
