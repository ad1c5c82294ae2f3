/** `amoc eval [--name N] [--json] EXPR`: one expression on the running node, its result printed, exit code from success. */
import { UsageError } from "../../errors.js";
import { NodeUnresponsiveError } from "../../node/daemon-errors.js";
import { request, SocketUnreachable } from "../attach/client.js";
import type { EvalReply } from "../attach/protocol.js";
import { parseArgs, requireRunning, resolveTarget, timeoutMs } from "../attach/target.js";

export const EVAL_USAGE = `usage: amoc eval [--name N] [--json] [--timeout S] EXPR
  evaluates EXPR as the console would (e.g. 'amoc_local.status()', 'amoc_local.add(10)') on the running node N and
  prints the result (--json: as JSON); exit 0 on success, the error's exit code otherwise, 3 when N is not running`;

/** Sends the expression; prints the result on stdout (an error on stderr) and returns its exit code. */
export async function evalCommand(args: string[]): Promise<number> {
  const a = parseArgs(args, ["name", "timeout"], ["json", "help"], EVAL_USAGE);
  if (a.flags.has("help")) {
    process.stdout.write(EVAL_USAGE + "\n");
    return 0;
  }
  const expr = a.positional.join(" ").trim();
  if (!expr) throw new UsageError("eval needs an expression", EVAL_USAGE);
  const wait = timeoutMs(a.values.timeout, 60, EVAL_USAGE);
  const t = resolveTarget(a.values.name);
  const pid = requireRunning(t);
  let r: EvalReply;
  try {
    r = await request<EvalReply>(t.dir.socketPath, { op: "eval", expr }, wait);
  } catch (e) {
    if (e instanceof SocketUnreachable) throw new NodeUnresponsiveError(t.name, pid, e.errCode, t.nameFlag);
    throw e;
  }
  if (a.flags.has("json")) process.stdout.write(JSON.stringify(r.ok ? (r.value ?? null) : { error: r.value }) + "\n");
  else if (r.ok) process.stdout.write(r.text ? r.text + "\n" : "");
  if (!r.ok) process.stderr.write(`amoc: ${r.text.replace(/^error: /, "")}\n`);
  return r.exit;
}
