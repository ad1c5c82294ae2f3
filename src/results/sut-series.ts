/**
 * The server under test's side of a run (src/sut/ samples it): one sample per results interval, its `sut.*` values and
 * the sources that failed. Here: the names every view knows, the stats thresholds judge, and the check that our users
 * online agree with the server's sessions at the peak.
 */
import type { MergedInterval, MetricStats } from "./merge.js";

/** One sampling of every SUT source: when it started (epoch ms), its values, and each failed source's error. */
export interface SutSample {
  t: number;
  values: Record<string, number>;
  /** source -> why it failed this time (absent: every source answered). */
  errors?: Record<string, string>;
}

/** The server's CPU, in cores (1 = one core busy the whole interval), from /proc or `process_cpu_seconds_total`. */
export const SUT_PROCESS_CPU = "sut.process_cpu";
export const SUT_PROCESS_RSS = "sut.process_rss_bytes";
export const SUT_PROCESS_OPEN_FILES = "sut.process_open_files";
/** The server's own count of client sessions (Prosody's c2s connections, ejabberd's connected_users_number). */
export const SUT_SESSIONS = "sut.sessions";
/** How many source samplings failed (a counter over the run). */
export const SUT_SCRAPE_ERRORS = "sut.scrape_errors";

/** The sut.* names known before a run (thresholds refuse a typo of them; selected metrics are known only once scraped). */
export const SUT_NAMES: readonly string[] = [
  SUT_PROCESS_CPU,
  SUT_PROCESS_RSS,
  SUT_PROCESS_OPEN_FILES,
  SUT_SESSIONS,
  SUT_SCRAPE_ERRORS,
];

/** Our users online and the server's sessions disagree when they differ by more than this, in %. */
export const SESSIONS_TOLERANCE_PCT = 1;

/** Each sut.* series as a gauge over the run (last, min, max) and the failed samplings as a counter. */
export function sutTable(samples: readonly SutSample[], durationS: number): Record<string, MetricStats> {
  const out: Record<string, MetricStats> = {};
  let errors = 0;
  for (const s of samples) {
    errors += Object.keys(s.errors ?? {}).length;
    for (const [k, v] of Object.entries(s.values)) {
      const g = out[k];
      if (g?.kind === "gauge") out[k] = { kind: "gauge", last: v, min: Math.min(g.min, v), max: Math.max(g.max, v) };
      else out[k] = { kind: "gauge", last: v, min: v, max: v };
    }
  }
  if (samples.length)
    out[SUT_SCRAPE_ERRORS] = { kind: "counter", count: errors, rate: durationS > 0 ? errors / durationS : 0 };
  return out;
}

/** The sample nearest to `t` (epoch ms) within `withinMs`, or undefined. */
export function nearestSample(samples: readonly SutSample[], t: number, withinMs: number): SutSample | undefined {
  let best: SutSample | undefined;
  for (const s of samples) if (!best || Math.abs(s.t - t) < Math.abs(best.t - t)) best = s;
  return best && Math.abs(best.t - t) <= withinMs ? best : undefined;
}

/** Our users online beside the server's sessions at the peak of users online. */
export interface SessionsAtPeak {
  /** When (epoch ms) the peak was last seen: the end of its interval. */
  t: number;
  users: number;
  sessions: number;
  diffPct: number;
  /** The difference is over SESSIONS_TOLERANCE_PCT. */
  disagree: boolean;
  /**
   * Our logins and logouts in that interval: a run without a plateau (users that log in, chat and leave) has this
   * many in flight around the sampling instant, so a difference up to it is churn rather than lost sessions.
   */
  churn: number;
}

/**
 * Our users online over a run's intervals, and the last interval at their peak (the plateau's end, when logins have
 * settled). Online is what the server can count: XMPP logins minus logouts and lost connections so far, when the
 * scenario logs in through amoc's XMPP client; else the users running.
 */
export class OnlinePeak {
  private connected = 0;
  private xmpp = false;
  private xmppPeak: Peak | undefined;
  private runningPeak: Peak | undefined;

  /** Takes the next interval. */
  add(m: MergedInterval): void {
    const c = m.counters;
    this.connected +=
      (c["xmpp.connections"] ?? 0) - (c["xmpp.disconnections"] ?? 0) - (c["xmpp.connections_lost"] ?? 0);
    this.xmpp ||= c["xmpp.connections"] !== undefined;
    const churn = (c["xmpp.connections"] ?? 0) + (c["xmpp.disconnections"] ?? 0) + (c["xmpp.connections_lost"] ?? 0);
    const at = (users: number, p: Peak | undefined): Peak | undefined =>
      users > 0 && users >= (p?.users ?? 0) ? { t: m.t, ms: m.ms, users, churn } : p;
    this.xmppPeak = at(this.connected, this.xmppPeak);
    this.runningPeak = at(m.gauges["users.running"] ?? 0, this.runningPeak);
  }

  get peak(): Peak | undefined {
    return this.xmpp ? this.xmppPeak : this.runningPeak;
  }
}

type Peak = { t: number; ms: number; users: number; churn: number };

/** Our users online at the end of each interval, as OnlinePeak counts them. */
export function onlineSeries(intervals: readonly MergedInterval[]): number[] {
  const xmpp = intervals.some((m) => m.counters["xmpp.connections"] !== undefined);
  let connected = 0;
  return intervals.map((m) => {
    const c = m.counters;
    connected += (c["xmpp.connections"] ?? 0) - (c["xmpp.disconnections"] ?? 0) - (c["xmpp.connections_lost"] ?? 0);
    return xmpp ? connected : (m.gauges["users.running"] ?? 0);
  });
}

/**
 * At the peak of our users online (OnlinePeak), the server's session count sampled nearest to that interval's end.
 * Undefined when the server counts no sessions or no user was online.
 */
export function sessionsAtPeak(peak: Peak | undefined, samples: readonly SutSample[]): SessionsAtPeak | undefined {
  if (!peak) return undefined;
  const withSessions = samples.filter((s) => s.values[SUT_SESSIONS] !== undefined);
  const end = peak.t + peak.ms;
  const s = nearestSample(withSessions, end, peak.ms);
  if (!s) return undefined;
  const sessions = s.values[SUT_SESSIONS] as number;
  const diffPct = Math.round((Math.abs(sessions - peak.users) / peak.users) * 10000) / 100;
  const disagree = diffPct > SESSIONS_TOLERANCE_PCT;
  return { t: end, users: peak.users, sessions, diffPct, disagree, churn: peak.churn };
}

/** The online peak of a whole run's intervals. */
export function onlinePeak(intervals: readonly MergedInterval[]): Peak | undefined {
  const p = new OnlinePeak();
  for (const m of intervals) p.add(m);
  return p.peak;
}

/** What a run's summary says of the server under test. */
export interface SutSummary {
  samples: number;
  /** Samplings in which a source failed, and the last failure of each source. */
  failed: number;
  errors: Record<string, string>;
  /** Each sut.* series over the run. */
  series: Record<string, { last: number; min: number; max: number }>;
  sessions_at_peak?: SessionsAtPeak;
}

/** The summary of `samples`; `peak`: the run's peak of users online (recorder.ts keeps an OnlinePeak). */
export function sutSummary(samples: readonly SutSample[], peak: Peak | undefined): SutSummary {
  const series: SutSummary["series"] = {};
  for (const [k, s] of Object.entries(sutTable(samples, 0)))
    if (s.kind === "gauge") series[k] = { last: s.last, min: s.min, max: s.max };
  const errors: Record<string, string> = {};
  let failed = 0;
  for (const s of samples) {
    if (s.errors) failed++;
    Object.assign(errors, s.errors ?? {});
  }
  const out: SutSummary = { samples: samples.length, failed, errors, series };
  const at = sessionsAtPeak(peak, samples);
  if (at) out.sessions_at_peak = at;
  return out;
}

/** The largest value of each `sut.*` series over the samplings taken from `from` to `to` (epoch ms). */
export function sutMaxima(samples: readonly SutSample[], from: number, to: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.t < from || s.t > to) continue;
    for (const [k, v] of Object.entries(s.values)) out[k] = Math.max(out[k] ?? -Infinity, v);
  }
  return out;
}
