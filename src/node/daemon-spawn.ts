/**
 * Starting a detached node: `bin/amoc __daemon ...` in a session of its own (setsid), stdin closed, stdout and stderr
 * appended to the node's log, and a wait until the node answers on its socket or exits (then the log lines it wrote
 * say why). The caller's process may then exit: nothing ties the node to it.
 */
import { spawn } from "node:child_process";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { PROJECT_ROOT, ensureDataDir, type DataDir } from "./data-dir.js";

/** The hidden command the detached process runs. */
export const DAEMON_COMMAND = "__daemon";

/** How to start the node and tell when it is ready. */
export interface SpawnDaemonOptions {
  dir: DataDir;
  /** Arguments after `__daemon` (e.g. `--worker`). */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Where stdout and stderr go (the node's log file). */
  logFile: string;
  readyTimeoutMs: number;
  /** True once the node with this pid answers. */
  isReady(pid: number): Promise<boolean>;
  pollMs?: number;
}

/** Started and answering, or why not (the log lines written since the spawn). */
export type SpawnResult =
  | { ok: true; pid: number }
  | { ok: false; pid: number | undefined; exitCode: number | null; reason: string; logTail: string };

/** Reads what was appended to `file` after `offset`, its last `maxLines` lines. */
function tailSince(file: string, offset: number, maxLines = 30): string {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return "";
  }
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size - offset, 256 * 1024);
    if (len <= 0) return "";
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString("utf8").trimEnd().split("\n").slice(-maxLines).join("\n");
  } finally {
    closeSync(fd);
  }
}

/** Spawns the node detached and waits until it is ready, has exited, or `readyTimeoutMs` passed (then it is killed). */
export async function spawnDaemon(o: SpawnDaemonOptions): Promise<SpawnResult> {
  ensureDataDir(o.dir);
  const fd = openSync(o.logFile, "a", 0o600);
  const offset = fstatSync(fd).size;
  const child = spawn(join(PROJECT_ROOT, "bin", "amoc"), [DAEMON_COMMAND, ...o.args], {
    detached: true,
    stdio: ["ignore", fd, fd],
    env: o.env,
    cwd: process.cwd(),
  });
  closeSync(fd);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  child.on("exit", (code, signal) => (exit = { code, signal }));
  child.on("error", (e) => (spawnError = e));
  const pid = child.pid;
  const end = Date.now() + o.readyTimeoutMs;
  const fail = (reason: string, exitCode: number | null): SpawnResult => ({
    ok: false,
    pid,
    exitCode,
    reason,
    logTail: tailSince(o.logFile, offset),
  });
  try {
    for (;;) {
      if (spawnError) return fail(`cannot run bin/amoc: ${spawnError.message}`, 1);
      if (exit)
        return fail(exit.signal ? `it was killed by ${exit.signal}` : `it exited with code ${exit.code}`, exit.code);
      if (pid !== undefined && (await o.isReady(pid))) return { ok: true, pid };
      if (Date.now() >= end) {
        if (pid !== undefined) process.kill(pid, "SIGKILL");
        return fail(`it did not answer within ${o.readyTimeoutMs} ms and was killed`, null);
      }
      await new Promise((r) => setTimeout(r, o.pollMs ?? 100));
    }
  } finally {
    child.unref();
  }
}
