/**
 * Registers the `amoc-ts` resolve hook once per process: `bin/amoc` imports this at startup with `--import`, after
 * tsx (the hook module is TypeScript). Under vitest, scenarios resolve `amoc-ts` through the package.json
 * "exports" self-reference instead.
 */
import { register } from "node:module";

const KEY = Symbol.for("amoc-ts.resolve-hooks");
const g = globalThis as { [KEY]?: boolean };

/** Registers the hook unless this process already did; true when it is in place. */
export function registerScenarioResolveHook(): boolean {
  if (g[KEY]) return true;
  if (typeof register !== "function") return false;
  register(new URL("./resolve-hooks.ts", import.meta.url));
  g[KEY] = true;
  return true;
}

registerScenarioResolveHook();
