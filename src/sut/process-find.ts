/**
 * AMOC_SUT_PROCESS to a pid, once, before the run starts: a pid, a pid file (a path: its first number, as
 * scripts/servers.sh's `<run dir>/pids/<unit>.pid` holds it), or a process name on this machine. A name matches a
 * process's `comm`, or the base name of its first or second argument (Prosody runs as `lua5.4 /usr/bin/prosody`).
 * When several processes bear the name (a test's private Prosody beside the shared one), the one listening on a port
 * the run talks to (its XMPP endpoints, the metrics URLs) is meant.
 */
import { basename } from "node:path";
import { UsageError } from "../errors.js";
import type { ProcReader } from "./proc-reader.js";

const HINT =
  "AMOC_SUT_PROCESS is a pid, a pid file's path, or the name of one process on this machine (e.g. prosody, beam.smp)";

/** The process to sample: its pid and how to name it. */
export interface SutProcess {
  pid: number;
  label: string;
}

function alive(proc: ProcReader, pid: number): boolean {
  try {
    proc.read(`/proc/${pid}/stat`);
    return true;
  } catch {
    return false;
  }
}

/** The names a process goes by: comm, and the base names of argv[0] and argv[1]. */
function namesOf(proc: ProcReader, pid: number): string[] {
  try {
    const comm = proc.read(`/proc/${pid}/comm`).trim();
    const argv = proc
      .read(`/proc/${pid}/cmdline`)
      .split("\0")
      .slice(0, 2)
      .filter(Boolean)
      .map((a) => basename(a));
    return [comm, ...argv];
  } catch {
    return []; // gone while we looked
  }
}

/** The inodes of the TCP sockets listening on one of `ports` (IPv4 and IPv6). */
function listeningInodes(proc: ProcReader, ports: readonly number[]): Set<string> {
  const out = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = proc.read(table);
    } catch {
      continue; // no IPv6
    }
    for (const line of text.split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      const port = parseInt((f[1] ?? "").split(":")[1] ?? "", 16);
      // st 0A: LISTEN
      if (f[3] === "0A" && ports.includes(port) && f[9]) out.add(f[9]);
    }
  }
  return out;
}

/** Whether `pid` holds one of the sockets `inodes`. */
function holds(proc: ProcReader, pid: number, inodes: Set<string>): boolean {
  try {
    return proc.list(`/proc/${pid}/fd`).some((fd) => {
      try {
        return inodes.has(/^socket:\[(\d+)\]$/.exec(proc.link(`/proc/${pid}/fd/${fd}`))?.[1] ?? "");
      } catch {
        return false; // closed while we looked
      }
    });
  } catch {
    return false;
  }
}

/**
 * Resolves `spec`; throws UsageError (the run is refused) when it names no process, or several of which none (or more
 * than one) listens on `ports`.
 */
export function findProcess(
  spec: string,
  proc: ProcReader,
  ports: readonly number[] = [],
  self = process.pid,
): SutProcess {
  const s = spec.trim();
  if (/^\d+$/.test(s)) {
    const pid = Number(s);
    if (!alive(proc, pid)) throw new UsageError(`AMOC_SUT_PROCESS: no process ${pid} runs on this machine`, HINT);
    return { pid, label: `pid ${pid}` };
  }
  if (s.startsWith("/")) {
    let text: string;
    try {
      text = proc.read(s);
    } catch (e) {
      throw new UsageError(`AMOC_SUT_PROCESS: cannot read the pid file ${s}: ${(e as Error).message}`, HINT);
    }
    const pid = Number(/\d+/.exec(text)?.[0] ?? NaN);
    if (!Number.isInteger(pid) || !alive(proc, pid))
      throw new UsageError(`AMOC_SUT_PROCESS: the pid file ${s} names no running process ('${text.trim()}')`, HINT);
    return { pid, label: `pid ${pid} of ${s}` };
  }
  const pids = proc
    .list("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => pid !== self && namesOf(proc, pid).includes(s));
  if (pids.length === 1) return { pid: pids[0] as number, label: `${s} (pid ${pids[0]})` };
  if (pids.length === 0) throw new UsageError(`AMOC_SUT_PROCESS: no process named '${s}' runs on this machine`, HINT);
  const inodes = listeningInodes(proc, ports);
  const listening = inodes.size ? pids.filter((pid) => holds(proc, pid, inodes)) : [];
  if (listening.length === 1)
    return { pid: listening[0] as number, label: `${s} (pid ${listening[0]}, listening on ${ports.join("/")})` };
  throw new UsageError(
    `AMOC_SUT_PROCESS: ${pids.length} processes are named '${s}' (pids ${pids.sort((a, b) => a - b).join(", ")}) and ${listening.length ? "several" : "none"} of them listens on the run's ports (${ports.join(", ") || "none"}): name one by its pid or pid file`,
    HINT,
  );
}
