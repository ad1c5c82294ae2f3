/**
 * The pid file of a detached node: written exclusively by the node itself, read by `start`, `stop`, `status`, ...
 * A pid file whose process is gone, a zombie, or a different process (pid reused: the start time differs) is stale
 * and is removed together with the socket, so it never blocks the next `start`. Creating and taking over the file
 * are atomic (link(2), and a lock around the stale takeover), so concurrent starts over one name have one winner.
 */
import { randomUUID } from "node:crypto";
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import type { DataDir } from "./data-dir.js";

/** What the pid file holds. */
export interface PidRecord {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot); absent where there is no /proc. */
  startTime?: string;
}

/** Where a node stands, judged from its data directory. */
export type NodeProcessState =
  { state: "running"; pid: number } | { state: "stale"; pid?: number } | { state: "absent" };

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

/** The lock a stale-file takeover holds for the few system calls it takes: a hard link to its holder's record. */
function lockPath(d: DataDir): string {
  return `${d.pidFile}.lock`;
}

/** Writes `pid`'s record to a private file next to the pid file (linked into place whole: never seen half-written). */
function writeRecordFile(d: DataDir, pid: number): string {
  const start = processStartTime(pid);
  const tmp = `${d.pidFile}.${pid}.${randomUUID().slice(0, 8)}`;
  writeFileSync(tmp, start ? `${pid} ${start}\n` : `${pid}\n`, { flag: "wx", mode: 0o600 });
  return tmp;
}

/** link(2), which fails with EEXIST when `to` exists: the atomic "create if absent" both the claim and the lock use. */
function linkIfAbsent(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw e;
  }
}

/**
 * Takes the takeover lock with `recordFile` (this process's record) as its content. A lock whose holder is dead (it
 * crashed between two system calls) is broken: renamed away, then checked to be that dead holder's (a live one that
 * slipped in meanwhile is put back). Returns the live holder's pid when another takeover holds it.
 */
function takeLock(d: DataDir, recordFile: string): { ok: true } | { ok: false; pid: number } {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (linkIfAbsent(recordFile, lockPath(d))) return { ok: true };
    const holder = readPidFile(lockPath(d));
    if (holder && isRecordAlive(holder)) return { ok: false, pid: holder.pid };
    const moved = `${lockPath(d)}.broken.${randomUUID().slice(0, 8)}`;
    try {
      renameSync(lockPath(d), moved);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw e;
    }
    const was = readPidFile(moved);
    if (was && isRecordAlive(was)) {
      linkIfAbsent(moved, lockPath(d));
      rmSync(moved, { force: true });
      return { ok: false, pid: was.pid };
    }
    rmSync(moved, { force: true });
  }
  return { ok: false, pid: 0 };
}

/**
 * Runs `fn` under the takeover lock when the pid file is (still) stale or absent; returns the live node's pid
 * instead when there is one, or a concurrent takeover's.
 */
function whileStale<T>(
  d: DataDir,
  recordFile: string,
  fn: () => T,
  hooks: ClaimHooks,
): { ok: true; value: T } | { ok: false; pid: number } {
  const lock = takeLock(d, recordFile);
  if (!lock.ok) return lock;
  try {
    hooks.locked?.();
    const rec = readPidFile(d.pidFile);
    if (rec && isRecordAlive(rec)) return { ok: false, pid: rec.pid };
    return { ok: true, value: fn() };
  } finally {
    rmSync(lockPath(d), { force: true });
  }
}

/** Points in a claim where tests run a competing claim, to interleave them at the file level in one process. */
export interface ClaimHooks {
  /** The pid file was found stale, before the lock is taken. */
  sawStale?: () => void;
  /** The lock is held, before the pid file is read again. */
  locked?: () => void;
}

/**
 * Removes what a dead node left behind: its pid file, socket and metadata, under the takeover lock and only while
 * the pid file is still stale (a node that claimed it meanwhile keeps it).
 */
export function cleanStale(d: DataDir, pid = process.pid): void {
  let recordFile: string;
  try {
    recordFile = writeRecordFile(d, pid);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return; // no data directory: nothing left behind
    throw e;
  }
  try {
    whileStale(
      d,
      recordFile,
      () => {
        for (const f of [d.pidFile, d.socketPath, d.metaFile]) rmSync(f, { force: true });
      },
      {},
    );
  } finally {
    rmSync(recordFile, { force: true });
  }
}

/**
 * Writes this process's pid file, failing if another live node's exists: of any number of nodes started at once
 * under one name, exactly one wins. The file is created with link(2) from a complete private copy (atomic, never
 * half-written); a stale one is replaced under the takeover lock (rename over it), so two starts that both saw it
 * stale cannot both replace it.
 */
export function claimPidFile(
  d: DataDir,
  pid = process.pid,
  hooks: ClaimHooks = {},
): { ok: true } | { ok: false; pid: number } {
  const recordFile = writeRecordFile(d, pid);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (linkIfAbsent(recordFile, d.pidFile)) return { ok: true };
      const rec = readPidFile(d.pidFile);
      if (rec && isRecordAlive(rec)) return { ok: false, pid: rec.pid };
      hooks.sawStale?.();
      const took = whileStale(
        d,
        recordFile,
        () => {
          for (const f of [d.socketPath, d.metaFile]) rmSync(f, { force: true });
          renameSync(recordFile, d.pidFile);
        },
        hooks,
      );
      if (took.ok) return { ok: true };
      if (took.pid) return took;
      // a dead lock holder that could not be broken in 3 tries: start over
    }
    const rec = readPidFile(d.pidFile);
    return { ok: false, pid: rec?.pid ?? 0 };
  } finally {
    rmSync(recordFile, { force: true });
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
