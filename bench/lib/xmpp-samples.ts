/**
 * What bench/lib/xmpp-figures.ts reads: the /proc samples of bench/lib/proc-sample.sh, each generator's own report
 * (tsung.log, `amoc run --json`), and the arithmetic over samples (crossings, peak CPU, CPU between two instants).
 */
import { existsSync, readFileSync } from "node:fs";

/** One /proc sample. */
export interface Sample {
  t: number;
  rss: number;
  hwm: number;
  cpu: number;
  fds: number;
  user: number;
  sys: number;
  /** The namespace's TCP buffer memory, pages (/proc/net/sockstat). */
  tcpPages: number;
}

/** What the generator says about its own run. */
export interface Report {
  launched: number;
  connected: number;
  errors: number;
  errorKinds: Record<string, number>;
  chatsSent: number;
  chatsReceived: number | null;
  /** TCP connect to session established, ms: `loginStat` says which statistic (mean for tsung; mean or p50 for amoc-ts). */
  loginMs: number | null;
  loginStat: "mean" | "p50";
}

/** The samples of one process, one line each: t rss hwm cpu fds [user sys tcp_pages]. */
export function readSamples(file: string): Sample[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => {
      const [t, rss, hwm, cpu, fds, user, sys, tcp] = l.trim().split(/\s+/).map(Number);
      return {
        t: t!,
        rss: rss!,
        hwm: hwm!,
        cpu: cpu!,
        fds: fds!,
        user: user ?? NaN,
        sys: sys ?? NaN,
        tcpPages: tcp ?? NaN,
      };
    });
}

/** tsung.log: `stats: NAME count_in_interval total` for counters; sample lines carry more fields. */
export function tsungReport(file: string): Report {
  const last = new Map<string, number[]>();
  const sums = new Map<string, number>();
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const m = /^stats: (\S+) (.*)$/.exec(line);
    if (!m) continue;
    const v = m[2]!.trim().split(/\s+/).map(Number);
    last.set(m[1]!, v);
    sums.set(m[1]!, (sums.get(m[1]!) ?? 0) + (v[0] ?? 0));
  }
  const total = (name: string) => last.get(name)?.at(-1) ?? 0;
  const errorKinds: Record<string, number> = {};
  for (const [name, v] of last) if (name.startsWith("error_")) errorKinds[name] = v.at(-1) ?? 0;
  // sample lines: count mean stddev max min mean-since-start count-since-start; the login transaction completes
  // once per logged-in user
  return {
    launched: total("users_count"),
    connected: total("tr_login") || (sums.get("tr_login") ?? 0),
    errors: Object.values(errorKinds).reduce((a, b) => a + b, 0),
    errorKinds,
    chatsSent: total("tr_chat") || (sums.get("tr_chat") ?? 0),
    chatsReceived: null,
    loginMs: last.get("tr_login")?.[5] ?? null,
    loginStat: "mean",
  };
}

/** `amoc run --json` summary. */
export function amocReport(file: string): Report {
  const s = JSON.parse(readFileSync(file, "utf8")) as {
    users: { started: number; crashed: number };
    errors: Array<{ phase: string; message: string; count: number }>;
    metrics: Record<string, { count: number }>;
  };
  const c = (n: string) => s.metrics[n]?.count ?? 0;
  const errorKinds: Record<string, number> = {};
  // grouped with the user names and numbers masked: one line per kind of error, not per user
  for (const e of s.errors) {
    const k = `[${e.phase}] ${e.message.replace(/\d+/g, "N")}`;
    errorKinds[k] = (errorKinds[k] ?? 0) + e.count;
  }
  for (const n of ["xmpp.connection_failures", "xmpp.message_errors", "xmpp.timeouts"]) if (c(n)) errorKinds[n] = c(n);
  const login = s.metrics["xmpp.connection"] as { mean?: number; p50?: number } | undefined;
  return {
    launched: s.users.started,
    connected: c("xmpp.connections"),
    errors: s.users.crashed + c("xmpp.message_errors"),
    errorKinds,
    chatsSent: c("xmpp.messages_sent"),
    chatsReceived: c("xmpp.messages_received"),
    loginMs: login?.mean ?? login?.p50 ?? null,
    loginStat: login?.mean !== undefined ? "mean" : "p50",
  };
}

/** Time at which `fds - base` first reaches `level`, interpolated between samples. */
export function crossing(s: Sample[], from: number, baseFds: number, level: number): number {
  for (let i = from + 1; i < s.length; i++) {
    const a = s[i - 1]!;
    const b = s[i]!;
    if (b.fds - baseFds >= level) {
      const da = a.fds - baseFds;
      const f = b.fds === a.fds ? 1 : (level - da) / (b.fds - a.fds);
      return a.t + Math.max(0, Math.min(1, f)) * (b.t - a.t);
    }
  }
  return NaN;
}

/** The highest CPU rate between two consecutive samples taken from `from` to `to` (epoch ms), in cores. */
export function peakCores(s: Sample[], from = -Infinity, to = Infinity): number {
  let peak = 0;
  for (let i = 1; i < s.length; i++) {
    const a = s[i - 1]!;
    const b = s[i]!;
    if (a.t < from || b.t > to || b.t <= a.t) continue;
    peak = Math.max(peak, (b.cpu - a.cpu) / (b.t - a.t));
  }
  return peak;
}

/** CPU ms of the server between `from` and `to` (epoch ms), from its samples. */
export function serverCpuMs(server: Sample[], from: number, to: number): number | null {
  const a = server.filter((x) => x.t <= from).at(-1) ?? server[0];
  const b = server.filter((x) => x.t <= to).at(-1);
  return a && b && b.t > a.t ? b.cpu - a.cpu : null;
}

/**
 * RSS per user over the second half of the ramp, KB: (VmHWM when the peak count is reached - VmHWM when half of it
 * was) / the users added in between. What one more user adds, without what grows once whatever the count (the young
 * generation, compiled code); null when the samples do not cover both points.
 */
export function rssSecondHalf(s: Sample[], baseIdx: number, baseFds: number, connected: number): number | null {
  const half = s.findIndex((x, i) => i > baseIdx && x.fds - baseFds >= 0.5 * connected);
  const full = s.findIndex((x, i) => i > baseIdx && x.fds - baseFds >= connected);
  if (half < 0 || full <= half) return null;
  const [a, b] = [s[half]!, s[full]!];
  return b.fds > a.fds ? (b.hwm - a.hwm) / (b.fds - a.fds) : null;
}
