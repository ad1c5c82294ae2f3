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
  /** When (epoch ms) the peak was last seen. */
  t: number;
  users: number;
  sessions: number;
  diffPct: number;
  /** The difference is over SESSIONS_TOLERANCE_PCT. */
  disagree: boolean;
}

/**
 * At the last interval holding the run's peak of users online (the plateau's end, when logins have settled), our
 * users online against the server's session count sampled nearest to that interval's end. Undefined when the server
 * counts no sessions or no user ran.
 */
export function sessionsAtPeak(
  intervals: readonly MergedInterval[],
  samples: readonly SutSample[],
): SessionsAtPeak | undefined {
  let peak: MergedInterval | undefined;
  for (const m of intervals) {
    const u = m.gauges["users.running"] ?? 0;
    if (u > 0 && (!peak || u >= (peak.gauges["users.running"] ?? 0))) peak = m;
  }
  if (!peak) return undefined;
  const withSessions = samples.filter((s) => s.values[SUT_SESSIONS] !== undefined);
  const end = peak.t + peak.ms;
  const s = nearestSample(withSessions, end, 2 * peak.ms);
  if (!s) return undefined;
  const users = peak.gauges["users.running"] ?? 0;
  const sessions = s.values[SUT_SESSIONS] as number;
  const diffPct = Math.round((Math.abs(sessions - users) / users) * 10000) / 100;
  return { t: end, users, sessions, diffPct, disagree: diffPct > SESSIONS_TOLERANCE_PCT };
}
