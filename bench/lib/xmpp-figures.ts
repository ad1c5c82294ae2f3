/**
 * Turns what bench/xmpp-vs-tsung.sh and bench/xmpp-hold.sh collected into figures: per generator, from its /proc
 * samples (bench/lib/proc-sample.sh) and its own report (tsung.log or `amoc run --json`), RSS and CPU per user,
 * the achieved arrival rate and the errors; then a table, the ratios, and the same as JSON on the last line.
 *
 *   node --import tsx bench/lib/xmpp-figures.ts NAME=KIND:SAMPLES:REPORT[:SERVER_SAMPLES] ...   (KIND: tsung | amoc)
 *
 * Definitions (the same for every generator):
 * - base: the last sample before the ramp (two samples in a row each adding 5+ descriptors: users connecting);
 * - connected: peak descriptors - base descriptors (one socket per user);
 * - RSS per user = (peak RSS - base RSS) / connected, peak RSS = VmHWM at the last sample;
 * - RSS per user, second half (JSON only, `rss_slope_kb_per_user`): (VmHWM at the peak count - at half of it) / users
 *   added in between; it leaves out what grows once, but GC timing moves it by 1-2 KB between runs, so it is not
 *   printed nor recorded;
 * - whole per user: RSS per user + the kernel's memory of its socket (slab objects + socket buffers, ss -tm);
 * - CPU per user = (utime+stime at the last sample - at base) / users launched;
 * - arrival rate: connections opened per second between 10 % and 90 % of the peak (the ramp, interpolated);
 * - time to connect all: from base to the first sample at the peak descriptor count;
 * - login: the same phase for both, TCP connect to session established (tsung: its `login` transaction of
 *   bench/tsung/xmpp-chat.xml.tpl; amoc-ts: `xmpp.connection`), as the mean over all users, the one statistic tsung
 *   reports (amoc-ts's p50 is shown instead, and labelled so, when its summary carries no mean);
 * - peak CPU (cores): the highest one-second CPU rate of the generator and of Prosody; Prosody runs one Lua thread,
 *   so near 1.0 its queue, not the generator, is what a login waits in.
 */
import { dirname, join } from "node:path";
import { kernelMemory } from "./socket-memory.js";
import {
  amocReport,
  crossing,
  peakCores,
  readSamples,
  rssSecondHalf,
  serverCpuMs,
  tsungReport,
  type Report,
  type Sample,
} from "./xmpp-samples.js";
import { checkValidity, recordXmppFigures, type KernelMemory } from "./xmpp-validity.js";

/** The figures of one generator. */
interface Figures {
  name: string;
  users_launched: number;
  users_connected_by_tool: number;
  peak_connected: number;
  base_rss_mb: number;
  peak_rss_mb: number;
  rss_kb_per_user: number;
  rss_slope_kb_per_user: number | null;
  whole_kb_per_user: number | null;
  cpu_s: number;
  cpu_ms_per_user: number;
  /** The kernel's part of it (socket system calls; on loopback the kernel also delivers to the server then). */
  sys_ms_per_user: number;
  arrival_rate_per_s: number;
  connect_all_s: number;
  errors: number;
  error_kinds: Record<string, number>;
  chats_sent: number;
  chats_received: number | null;
  /** Prosody's CPU per user over the same interval: whether the server kept up (not a generator figure). */
  server_cpu_ms_per_user: number | null;
  login_ms: number | null;
  login_stat: "mean" | "p50";
  /** The highest one-second CPU rate of the generator process, in cores. */
  peak_cpu_cores: number;
  /** The same for Prosody over the generator's run (one Lua thread: 1.0 = saturated). */
  server_peak_cpu_cores: number | null;
  /** Kernel memory of the users' sockets (see KernelMemory). */
  kernel: KernelMemory;
}

function figures(name: string, samples: Sample[], r: Report, server: Sample[], ssFile: string): Figures {
  const f = measure(name, samples, r, server, ssFile);
  const k = f.kernel;
  if (k.slab_bytes_per_socket !== null)
    f.whole_kb_per_user =
      Math.round((f.rss_kb_per_user + (k.slab_bytes_per_socket + (k.ss_bytes_per_user ?? 0)) / 1024) * 10) / 10;
  return f;
}

function measure(name: string, samples: Sample[], r: Report, server: Sample[], ssFile: string): Figures {
  if (samples.length < 3) throw new Error(`${name}: only ${samples.length} samples`);
  // the ramp starts at the first of two samples in a row that each add 5+ descriptors, walking back from the first
  // sample with 5 % of the peak's descriptors: a generator opens and closes a few files while it boots (tsx, tsung's
  // logs), which must not count as users nor be taken for the ramp
  const rising = (i: number) => i > 0 && i < samples.length && samples[i]!.fds - samples[i - 1]!.fds >= 5;
  const peakAll = Math.max(...samples.map((x) => x.fds));
  let rise = samples.findIndex((x) => x.fds - samples[0]!.fds >= 0.05 * (peakAll - samples[0]!.fds));
  if (rise < 1) rise = 1;
  while (rise > 1 && rising(rise - 1)) rise--;
  const baseIdx = rise - 1;
  const base = samples[baseIdx]!;
  const last = samples.at(-1)!;
  const peakFds = Math.max(...samples.map((x) => x.fds));
  const connected = peakFds - base.fds;
  const peakRss = Math.max(last.hwm, ...samples.map((x) => x.rss));
  const t10 = crossing(samples, baseIdx, base.fds, 0.1 * connected);
  const t90 = crossing(samples, baseIdx, base.fds, 0.9 * connected);
  const tAll = samples.find((x, i) => i > baseIdx && x.fds === peakFds)?.t ?? NaN;
  const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
  return {
    name,
    users_launched: r.launched,
    users_connected_by_tool: r.connected,
    peak_connected: connected,
    base_rss_mb: round(base.rss / 1024),
    peak_rss_mb: round(peakRss / 1024),
    rss_kb_per_user: round((peakRss - base.rss) / Math.max(1, connected)),
    rss_slope_kb_per_user: ((v) => (v === null ? null : round(v)))(
      rssSecondHalf(samples, baseIdx, base.fds, connected),
    ),
    whole_kb_per_user: null,
    cpu_s: round((last.cpu - base.cpu) / 1000, 2),
    cpu_ms_per_user: round((last.cpu - base.cpu) / Math.max(1, r.launched), 3),
    sys_ms_per_user: round((last.sys - base.sys) / Math.max(1, r.launched), 3),
    arrival_rate_per_s: round((0.8 * connected) / ((t90 - t10) / 1000)),
    connect_all_s: round((tAll - base.t) / 1000),
    errors: r.errors,
    error_kinds: r.errorKinds,
    chats_sent: r.chatsSent,
    chats_received: r.chatsReceived,
    login_ms: r.loginMs === null ? null : round(r.loginMs),
    login_stat: r.loginStat,
    peak_cpu_cores: round(peakCores(samples), 2),
    server_peak_cpu_cores: server.length > 1 ? round(peakCores(server, base.t, last.t), 2) : null,
    server_cpu_ms_per_user: ((v) => (v === null ? null : round(v / Math.max(1, r.launched), 3)))(
      serverCpuMs(server, base.t, last.t),
    ),
    kernel: kernelMemory(ssFile, samples[baseIdx]!.tcpPages, Math.max(...samples.map((x) => x.tcpPages)), connected),
  };
}

function table(rows: Figures[]): string {
  const cols: Array<[string, (f: Figures) => string]> = [
    ["users launched", (f) => String(f.users_launched)],
    ["logged in (tool's count)", (f) => String(f.users_connected_by_tool)],
    ["peak connected (fds)", (f) => String(f.peak_connected)],
    ["base RSS (MB)", (f) => String(f.base_rss_mb)],
    ["peak RSS (MB)", (f) => String(f.peak_rss_mb)],
    ["RSS per connected user (KB)", (f) => String(f.rss_kb_per_user)],
    ["whole per user: RSS + kernel (KB)", (f) => String(f.whole_kb_per_user ?? "n/a")],
    ["CPU of the run (s)", (f) => String(f.cpu_s)],
    ["CPU per user (ms)", (f) => String(f.cpu_ms_per_user)],
    ["  of which kernel (ms)", (f) => String(f.sys_ms_per_user)],
    [
      "socket buffers per user, ss -tm (B)",
      (f) => `${f.kernel.ss_bytes_per_user ?? "n/a"} (${f.kernel.ss_sockets ?? 0} sockets)`,
    ],
    ["TCP memory per user, sockstat (B)", (f) => String(f.kernel.sockstat_bytes_per_user ?? "n/a")],
    ["kernel objects per socket, slabinfo (B)", (f) => String(f.kernel.slab_bytes_per_socket ?? "n/a")],
    ["arrival rate achieved (/s)", (f) => String(f.arrival_rate_per_s)],
    ["time to connect all (s)", (f) => String(f.connect_all_s)],
    ["chats sent / received", (f) => `${f.chats_sent} / ${f.chats_received ?? "n/a"}`],
    ["errors", (f) => String(f.errors)],
    ["login ms, TCP connect -> session", (f) => (f.login_ms === null ? "n/a" : `${f.login_ms} (${f.login_stat})`)],
    ["Prosody CPU per user (ms)", (f) => String(f.server_cpu_ms_per_user ?? "n/a")],
    ["peak CPU, generator (cores)", (f) => String(f.peak_cpu_cores)],
    ["peak CPU, Prosody (cores; 1 = saturated)", (f) => String(f.server_peak_cpu_cores ?? "n/a")],
  ];
  const w0 = Math.max(...cols.map(([h]) => h.length));
  const w = rows.map((f) => Math.max(f.name.length, ...cols.map(([, g]) => g(f).length)));
  const line = (h: string, cells: string[]) =>
    `| ${h.padEnd(w0)} | ${cells.map((c, i) => c.padStart(w[i]!)).join(" | ")} |`;
  const out = [
    line(
      "",
      rows.map((f) => f.name),
    ),
    `|${"-".repeat(w0 + 2)}|${w.map((n) => "-".repeat(n + 2)).join("|")}|`,
  ];
  for (const [h, g] of cols) out.push(line(h, rows.map(g)));
  for (const f of rows) for (const [k, n] of Object.entries(f.error_kinds)) out.push(`  ${f.name} error: ${n} x ${k}`);
  return out.join("\n");
}

const rows: Figures[] = [];
for (const arg of process.argv.slice(2)) {
  const m = /^([^=]+)=(tsung|amoc):([^:]+):([^:]+)(?::(.+))?$/.exec(arg);
  if (!m) throw new Error(`expected NAME=tsung|amoc:SAMPLES:REPORT[:SERVER_SAMPLES], got ${arg}`);
  const [, name, kind, samples, report, server] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  rows.push(
    figures(
      name,
      readSamples(samples),
      kind === "tsung" ? tsungReport(report) : amocReport(report),
      server ? readSamples(server) : [],
      join(dirname(samples), "ss.txt"),
    ),
  );
}
console.log(table(rows));
const loadBefore = (process.env.BENCH_LOAD_BEFORE ?? "").split(/\s+/).filter(Boolean).map(Number);
const expected = Number(process.env.BENCH_USERS_EXPECTED) || undefined;
const verdict = checkValidity(rows, { expectedUsers: expected, loadBefore });
const ratios: Record<string, number> = {};
if (!verdict.valid) console.log(`invalid: ${verdict.reasons.join("; ")}`);
else if (rows.length === 2) {
  const [a, b] = rows as [Figures, Figures];
  ratios.rss_per_user = Math.round((b.rss_kb_per_user / a.rss_kb_per_user) * 100) / 100;
  ratios.cpu_per_user = Math.round((b.cpu_ms_per_user / a.cpu_ms_per_user) * 100) / 100;
  console.log(
    `valid; ratios ${b.name}/${a.name}: RSS per user ${ratios.rss_per_user}x, CPU per user ${ratios.cpu_per_user}x (target <= 0.5x each)`,
  );
}
const out = { generators: rows, valid: verdict.valid, reasons: verdict.reasons, ...(verdict.valid ? { ratios } : {}) };
if (process.env.BENCH_KEY) recordXmppFigures(process.env.BENCH_KEY, out, loadBefore);
console.log(JSON.stringify(out));
