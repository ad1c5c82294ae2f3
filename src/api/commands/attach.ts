/** `amoc attach [--name N]`: the console of a running detached node; Ctrl+D or `.exit` detaches and the node keeps running. */
import { NodeUnresponsiveError } from "../../node/daemon-errors.js";
import { attach, SocketUnreachable } from "../attach/client.js";
import { parseArgs, requireRunning, resolveTarget } from "../attach/target.js";

export const ATTACH_USAGE = `usage: amoc attach [--name N]
  the console (help(), Tab completion) of the running node N; Ctrl+D or .exit detaches and the node keeps running,
  amoc_local.stop() stops the run but not the node; with piped stdin the lines run one by one, then attach exits`;

/** Attaches this terminal (or piped stdin) to the node's console; 3 when the node is not running. */
export async function attachCommand(args: string[]): Promise<number> {
  const a = parseArgs(args, ["name"], ["help"], ATTACH_USAGE);
  if (a.flags.has("help")) {
    process.stdout.write(ATTACH_USAGE + "\n");
    return 0;
  }
  const t = resolveTarget(a.values.name);
  const pid = requireRunning(t);
  try {
    await attach(t.dir.socketPath, { stdin: process.stdin, stdout: process.stdout });
  } catch (e) {
    if (e instanceof SocketUnreachable) throw new NodeUnresponsiveError(t.name, pid, e.errCode, t.nameFlag);
    throw e;
  }
  if (process.stdin.isTTY)
    process.stderr.write(
      `detached from node ${t.name} (pid ${pid}); it keeps running: bin/amoc attach${t.nameFlag} to return, bin/amoc stop${t.nameFlag} to stop it\n`,
    );
  return 0;
}
