/**
 * The pid file of a detached node: written exclusively by the node itself, read by `start`, `stop`, `status`, ...
 * A pid file whose process is gone, a zombie, or a different process (pid reused: the start time differs) is stale
 * and is removed together with the socket, so it never blocks the next `start`.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import type { DataDir } from "./data-dir.js";

/** What the pid file holds. */
export interface PidRecord {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot); absent where there is no /proc. */
  startTime?: string;
}

/** Where a node stands, judged from its data directory. */
export type NodeProcessState = { state: "running"; pid: number } | { state: "stale"; pid?: number } | { state: "absent" };

/** Field `n` (1-based, as in proc(5)) of /proc/<pid>/stat, or undefined when the process is gone or there is no /proc. */
function statField(pid: number, n: number): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // the command name (field 2) may hold spaces and parentheses: fields 3.. follow the last ')'
  const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return rest[n - 3];
}

/** The start time of `pid` (field 22 of /proc/<pid>/stat), or undefined. */
export function processStartTime(pid: number): string | undefined {
  return statField(pid, 22);
}

/** Whether `pid` is a live process: signal 0 reaches it and it is not a zombie (dead, not yet reaped). */
export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const state = statField(pid, 3);
  return state !== "Z" && state !== "X";
}

/** Whether the process the record names still lives (same pid, same start time when both are known). */
export function isRecordAlive(rec: PidRecord): boolean {
  if (!isPidAlive(rec.pid)) return false;
  if (rec.startTime === undefined) return true;
  const now = processStartTime(rec.pid);
  return now === undefined || now === rec.startTime;
}

/** The pid file's record, or undefined when it is missing or malformed. */
export function readPidFile(path: string): PidRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  const [pid, startTime] = text.trim().split(/\s+/);
  if (!pid || !/^\d+$/.test(pid)) return undefined;
  return startTime ? { pid: Number(pid), startTime } : { pid: Number(pid) };
}

/** Running, stale (a pid file or socket without a live node) or absent. */
export function probeNode(d: DataDir): NodeProcessState {
  const rec = readPidFile(d.pidFile);
  if (rec && isRecordAlive(rec)) return { state: "running", pid: rec.pid };
  if (rec) return { state: "stale", pid: rec.pid };
  try {
    readFileSync(d.pidFile);
    return { state: "stale" };
  } catch {
    return { state: "absent" };
  }
}

/** Removes what a dead node left behind: its pid file, socket and metadata. */
export function cleanStale(d: DataDir): void {
  for (const f of [d.pidFile, d.socketPath, d.metaFile]) rmSync(f, { force: true });
}

/**
 * Writes this process's pid file, failing (EEXIST) if another one exists: of two nodes started at once under one
 * name, exactly one wins. A stale file is removed first.
 */
export function claimPidFile(d: DataDir, pid = process.pid): { ok: true } | { ok: false; pid: number } {
  const before = probeNode(d);
  if (before.state === "running") return { ok: false, pid: before.pid };
  if (before.state === "stale") cleanStale(d);
  const start = processStartTime(pid);
  try {
    writeFileSync(d.pidFile, start ? `${pid} ${start}\n` : `${pid}\n`, { flag: "wx", mode: 0o600 });
    return { ok: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    const other = readPidFile(d.pidFile);
    return { ok: false, pid: other?.pid ?? 0 };
  }
}

/** Removes the pid file if it is still this process's (never another node's). */
export function releasePidFile(d: DataDir, pid = process.pid): void {
  if (readPidFile(d.pidFile)?.pid === pid) rmSync(d.pidFile, { force: true });
}

/** Polls until `pid` is gone (zombies count as gone) or `timeoutMs` passes; true when gone. */
export async function waitForExit(rec: PidRecord, timeoutMs: number, pollMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (isRecordAlive(rec)) {
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return true;
}
