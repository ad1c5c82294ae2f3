/** `amoc stop [--name N] [--force] [--timeout S]`: stops a detached node gracefully; --force kills it after the timeout. */
import { TimeoutError } from "../../errors.js";
import { cleanStale, probeNode, readPidFile, waitForExit } from "../../node/daemon-pid.js";
import { parseArgs, requireRunning, resolveTarget, timeoutMs } from "../attach/target.js";

export const STOP_USAGE = `usage: amoc stop [--name N] [--force] [--timeout S]
  stops the node N gracefully: its users are stopped, terminate is called, annotations are sent, then it exits;
  waits at most S seconds (default 60; 10 with --force), after which --force kills it; 3 when N is not running`;

/** SIGTERM, a wait for the process to end, SIGKILL with --force; 0 once the node is gone. */
export async function stopCommand(args: string[]): Promise<number> {
  const a = parseArgs(args, ["name", "timeout"], ["force", "help"], STOP_USAGE);
  if (a.flags.has("help")) {
    process.stdout.write(STOP_USAGE + "\n");
    return 0;
  }
  const force = a.flags.has("force");
  const wait = timeoutMs(a.values.timeout, force ? 10 : 60, STOP_USAGE);
  const t = resolveTarget(a.values.name);
  const pid = requireRunning(t);
  const rec = readPidFile(t.dir.pidFile) ?? { pid };
  process.kill(pid, "SIGTERM");
  let how = "stopped";
  if (!(await waitForExit(rec, wait))) {
    if (!force)
      throw new TimeoutError(
        `stopping node ${t.name} (pid ${pid})`,
        wait,
        `wait longer (--timeout S) or kill it: bin/amoc stop --force${t.nameFlag}`,
      );
    // its own session: whatever it started goes too
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      process.kill(pid, "SIGKILL");
    }
    await waitForExit(rec, 5000);
    how = `killed after ${wait / 1000} s`;
  }
  if (probeNode(t.dir).state !== "running") cleanStale(t.dir);
  process.stdout.write(`amoc: node ${t.name} (pid ${pid}) ${how}\n`);
  return 0;
}
