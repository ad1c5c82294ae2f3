/**
 * `bin/amoc eval EXPR` on the node side: one expression in a context with the console's objects (`amoc_local`,
 * `status`, `stop`, `sleep`, and `amoc_dist`/`nodes` on a node that may lead the cluster), its result printed as the
 * console prints it, and an exit code: 0, or the error's code mapped through ERROR_STATUS.
 */
import { inspect } from "node:util";
import vm from "node:vm";
import { AmocError, ERROR_STATUS } from "../../errors.js";
import type { ConsoleApis } from "../console/console.js";
import { distApi, nodesApi } from "../console/dist-binding.js";
import { localApi, Printed } from "../console/local-binding.js";
import { evalWithAwait } from "../console/top-level-await.js";
import type { EvalReply } from "./protocol.js";

/** The objects an evaluated expression sees (the console's, without its REPL-only helpers). */
export function evalContext(apis: ConsoleApis): vm.Context {
  const amocLocal = localApi(apis.local);
  return vm.createContext({
    amoc_local: amocLocal,
    status: amocLocal.status,
    stop: amocLocal.stop,
    sleep: (ms: number) => new Promise((r) => setTimeout(r, ms)),
    ...(apis.dist ? { amoc_dist: distApi(apis.dist), nodes: nodesApi(apis.dist) } : {}),
  });
}

/** A JSON-able form of a result: a status's raw report, a printed text, or the value itself. */
function jsonValue(v: unknown): unknown {
  if (v instanceof Printed) return (v as Printed & { raw?: unknown }).raw ?? v.text;
  if (v === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(v)) as unknown;
  } catch {
    return inspect(v, { depth: 6 });
  }
}

/** Runs `expr` (awaiting a promise result) and reports its printed result and exit code. */
export async function evaluateOnce(expr: string, apis: ConsoleApis): Promise<EvalReply> {
  try {
    let v = evalWithAwait(expr, evalContext(apis));
    if (v && typeof (v as Promise<unknown>).then === "function") v = await (v as Promise<unknown>);
    const text = typeof v === "string" ? v : v === undefined ? "" : inspect(v, { depth: 6, breakLength: 100 });
    return { ok: true, text, value: jsonValue(v), exit: 0 };
  } catch (e) {
    if (e instanceof AmocError)
      return { ok: false, text: `error: ${e.describe()}`, value: e.toJSON(), exit: ERROR_STATUS[e.code].exit };
    // errors thrown by the expression itself come from the context's realm: not `instanceof Error` here
    const message = typeof (e as Error)?.message === "string" ? (e as Error).message : String(e);
    return { ok: false, text: `error: ${message}`, value: { message }, exit: 1 };
  }
}
