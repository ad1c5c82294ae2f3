/**
 * Whether an XMPP generator benchmark measured the generators, and the recording of its figures.
 * A run is valid when every generator logged in at least 99 % of its users, Prosody (one Lua thread) stayed below
 * 0.8 of a core in every generator's run, and the machine was quiet before it (1-minute load average below half the
 * cores): otherwise the login times and the users lost are the server's or the machine's, and no ratio is printed
 * or recorded.
 */
import { cpus } from "node:os";
import { recordFigures, type BenchFigure } from "./results.js";

/** Kernel memory of the users' sockets. */
export interface KernelMemory {
  /** The generator's own TCP sockets in the one `ss -tmnp` snapshot taken while the users were held. */
  ss_sockets: number | null;
  /** Their skmem (receive + send + forward-allocated + queued + option + backlog bytes) per socket. */
  ss_bytes_per_user: number | null;
  /** Object sizes of one socket's kernel structures (socket, inode, file, epoll item, dentry), /proc/slabinfo. */
  slab_bytes_per_socket: number | null;
  /** The namespace's TCP buffer memory (/proc/net/sockstat), peak - base, per connected user: both ends counted. */
  sockstat_bytes_per_user: number | null;
}

/** What the check and the recording read of one generator's figures. */
export interface GeneratorFigures {
  name: string;
  users_launched: number;
  users_connected_by_tool: number;
  rss_kb_per_user: number;
  rss_slope_kb_per_user?: number | null;
  whole_kb_per_user?: number | null;
  cpu_ms_per_user: number;
  sys_ms_per_user: number;
  login_ms: number | null;
  login_stat: string;
  errors: number;
  chats_sent: number;
  chats_received: number | null;
  server_peak_cpu_cores: number | null;
  server_cpu_ms_per_user: number | null;
  kernel: KernelMemory;
}

export const MIN_LOGGED_IN = 0.99;
export const MAX_SERVER_CORES = 0.8;

export function checkValidity(
  rows: GeneratorFigures[],
  opts: { expectedUsers?: number; loadBefore: number[]; cores?: number },
): { valid: boolean; reasons: string[] } {
  const reasons: string[] = [];
  for (const f of rows) {
    const want = opts.expectedUsers ?? f.users_launched;
    if (f.users_connected_by_tool < MIN_LOGGED_IN * want)
      reasons.push(`${f.name} logged in ${f.users_connected_by_tool} of ${want} users (< 99 %)`);
  }
  const busy = rows.filter((f) => f.server_peak_cpu_cores === null || f.server_peak_cpu_cores >= MAX_SERVER_CORES);
  if (busy.length)
    reasons.push(
      `the server was the bottleneck (${busy
        .map((f) => `Prosody peaked at ${f.server_peak_cpu_cores ?? "unknown"} cores in ${f.name}'s run`)
        .join(", ")}; the limit is ${MAX_SERVER_CORES} of its single thread)`,
    );
  const cores = opts.cores ?? cpus().length;
  const load = opts.loadBefore[0];
  if (load !== undefined && load >= cores / 2)
    reasons.push(
      `the machine was busy: load average ${load} before the run on ${cores} cores (other work shared the CPU)`,
    );
  return { valid: reasons.length === 0, reasons };
}

const slug = (name: string) => name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();

/** One line per figure under `key` (e.g. `xmpp-vs-tsung.5000`); ratios only when the run was valid. */
export function recordXmppFigures(
  key: string,
  out: { generators: GeneratorFigures[]; valid: boolean; reasons: string[]; ratios?: Record<string, number> },
  loadBefore: number[],
): void {
  const command = process.env.BENCH_COMMAND ?? `bench/lib/xmpp-figures.ts (${key})`;
  const server = process.env.BENCH_SERVER_CONFIG ?? "bench";
  const figs: BenchFigure[] = [
    {
      figure: `${key}.valid`,
      value: out.valid,
      unit: "",
      command,
      what: `run valid: every generator logged in >= 99 %, Prosody (${server} config) < ${MAX_SERVER_CORES} core, machine quiet before`,
      detail: { reasons: out.reasons },
    },
  ];
  for (const f of out.generators) {
    const k = `${key}.${slug(f.name)}`;
    const add = (figure: string, value: number | string | null, unit: string, what: string) => {
      if (value !== null) figs.push({ figure: `${k}.${figure}`, value, unit, command, what: `${f.name}: ${what}` });
    };
    add(
      "logged_in",
      `${f.users_connected_by_tool} / ${f.users_launched}`,
      "users",
      "logged in / launched (its own count)",
    );
    add(
      "rss_per_user",
      f.rss_kb_per_user,
      "KB",
      "RSS per connected user, (peak - base) / connected (generator's memory)",
    );
    add(
      "whole_per_user",
      f.whole_kb_per_user ?? null,
      "KB",
      "whole memory per held user: RSS per connected user + the kernel's for its socket (slab objects + socket buffers, ss -tm)",
    );
    add(
      "cpu_per_user",
      f.cpu_ms_per_user,
      "ms",
      `CPU per user, whole session (generator's CPU; kernel ${f.sys_ms_per_user} ms)`,
    );
    add("ss_per_user", f.kernel.ss_bytes_per_user, "B", "kernel socket buffers per held user (ss -tm of its sockets)");
    add(
      "sockstat_per_user",
      f.kernel.sockstat_bytes_per_user,
      "B",
      "kernel TCP memory per user, both ends (/proc/net/sockstat)",
    );
    add(
      "kernel_per_user",
      f.kernel.slab_bytes_per_socket === null
        ? null
        : f.kernel.slab_bytes_per_socket + (f.kernel.ss_bytes_per_user ?? 0),
      "B",
      "kernel memory per held user: its socket's slab objects (TCP, inode, file, epoll, dentry) + its socket buffers (ss -tm)",
    );
    add("login", f.login_ms, `ms (${f.login_stat})`, "login, TCP connect to session established");
    add(
      "chats",
      `${f.chats_sent} sent / ${f.chats_received ?? "not counted"} received`,
      "",
      "chats (tsung does not count what it receives)",
    );
    add("server_peak", f.server_peak_cpu_cores, "cores", "Prosody's peak CPU in this run (the server's limit: 1 core)");
    add("server_cpu_per_user", f.server_cpu_ms_per_user, "ms", "Prosody CPU per user in this run");
  }
  if (out.ratios)
    for (const [r, v] of Object.entries(out.ratios))
      figs.push({
        figure: `${key}.ratio.${r}`,
        value: v,
        unit: "x",
        command,
        what: `amoc-ts / tsung, ${r.replace(/_/g, " ")}`,
      });
  recordFigures(figs, loadBefore);
}
