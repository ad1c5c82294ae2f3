/**
 * The server under test in the HTML report: its series on the load's time axis, each beside the load figure it
 * answers ("users online vs server CPU", "server sessions vs our connected users", "TTD p99 vs server memory"), its
 * other selected series, and a section with the sessions check at the peak and the samplings that failed.
 */
import type { MergedInterval } from "./merge.js";
import type { ChartData } from "./report-data.js";
import type { RunResults } from "./run-results.js";
import {
  nearestSample,
  onlinePeak,
  onlineSeries,
  sessionsAtPeak,
  SESSIONS_TOLERANCE_PCT,
  SUT_PROCESS_CPU,
  SUT_PROCESS_RSS,
  SUT_SESSIONS,
  type SutSample,
} from "./sut-series.js";

/** Other series drawn one chart each, at most this many (a broad glob may select hundreds). */
const MAX_OTHER_CHARTS = 12;
const MIB = 2 ** 20;

/** Each interval's value of `name`: the sampling nearest to the interval's end, within one interval. */
function aligned(iv: readonly MergedInterval[], samples: readonly SutSample[], name: string): Array<number | null> {
  const having = samples.filter((s) => s.values[name] !== undefined);
  return iv.map((m) => nearestSample(having, m.t + m.ms, m.ms)?.values[name] ?? null);
}

/** The SUT charts of a run (none when it sampled no server). */
export function sutCharts(res: RunResults): ChartData[] {
  const iv = res.intervals;
  const samples = res.sut;
  if (!samples.length) return [];
  const names = new Set(samples.flatMap((s) => Object.keys(s.values)));
  const users = { label: "our users online", values: onlineSeries(iv) };
  const charts: ChartData[] = [];
  if (names.has(SUT_PROCESS_CPU))
    charts.push({
      id: "sut-cpu",
      title: "Users online vs server CPU",
      unit: "users",
      unit2: "cores",
      series: [users, { label: "server CPU", values: aligned(iv, samples, SUT_PROCESS_CPU), axis: 2 }],
    });
  if (names.has(SUT_SESSIONS))
    charts.push({
      id: "sut-sessions",
      title: "Server sessions vs our connected users",
      unit: "sessions",
      series: [users, { label: "server sessions", values: aligned(iv, samples, SUT_SESSIONS) }],
    });
  if (names.has(SUT_PROCESS_RSS))
    charts.push({
      id: "sut-memory",
      title: "TTD p99 vs server memory",
      unit: "ms",
      unit2: "MiB",
      series: [
        {
          label: "TTD p99",
          values: iv.map((m) => (m.stats["xmpp.message_ttd"]?.count ? m.stats["xmpp.message_ttd"].p99 : null)),
        },
        {
          label: "server RSS",
          values: aligned(iv, samples, SUT_PROCESS_RSS).map((v) => (v === null ? null : Math.round(v / MIB))),
          axis: 2,
        },
      ],
    });
  const shown = new Set([SUT_PROCESS_CPU, SUT_SESSIONS, SUT_PROCESS_RSS]);
  for (const name of [...names]
    .filter((n) => !shown.has(n))
    .sort()
    .slice(0, MAX_OTHER_CHARTS))
    charts.push({
      id: `sut-${name.slice(4).replace(/[^a-zA-Z0-9_-]/g, "_")}`,
      title: `Server: ${name}`,
      unit: name.endsWith("_per_s")
        ? "/s"
        : name.endsWith("_bytes")
          ? "bytes"
          : name.endsWith("_files")
            ? "files"
            : "value",
      series: [{ label: name, values: aligned(iv, samples, name) }],
    });
  if (samples.some((s) => s.errors))
    charts.push({
      id: "sut-errors",
      title: "Server samplings that failed (sut.scrape_errors)",
      unit: "sources",
      series: [
        {
          label: "failed sources",
          values: iv.map((m) => {
            const s = nearestSample(samples, m.t + m.ms, m.ms);
            return s ? Object.keys(s.errors ?? {}).length : null;
          }),
        },
      ],
    });
  return charts;
}

/** The report's "Server under test" section ('' when the run sampled no server); `esc`: report.ts's escaping. */
export function sutSection(res: RunResults, esc: (v: unknown) => string): string {
  const samples = res.sut;
  if (!samples.length) return "";
  const peak = sessionsAtPeak(onlinePeak(res.intervals), samples);
  const check = peak
    ? `<p class="sut-peak ${peak.disagree ? "breach" : "ok"}">At the peak of users online: our users online <b>${esc(peak.users)}</b>, the server's sessions <b>${esc(peak.sessions)}</b>, ${esc(peak.diffPct)} % apart${peak.disagree ? ` <b>(they disagree by more than ${SESSIONS_TOLERANCE_PCT} %)</b>${peak.churn > 0 && Math.abs(peak.users - peak.sessions) <= peak.churn ? `; our ${esc(peak.churn)} logins and logouts of that interval were in flight around the sampling, so part of it may be churn: hold users online (e.g. linger_ms) for an exact count` : ""}` : ` (agree within ${SESSIONS_TOLERANCE_PCT} %)`}.</p>`
    : `<p class="empty">The server counted no sessions we could compare with our users online (Prosody's c2s connections and ejabberd's connected_users_number are).</p>`;
  const failed = new Map<string, { count: number; last: string }>();
  for (const s of samples)
    for (const [src, err] of Object.entries(s.errors ?? {}))
      failed.set(src, { count: (failed.get(src)?.count ?? 0) + 1, last: err });
  const failures = failed.size
    ? `<table><thead><tr><th>source</th><th>failed samplings</th><th>last error</th></tr></thead><tbody>${[...failed]
        .map(
          ([src, f]) =>
            `<tr class="breach"><td class="name">${esc(src)}</td><td class="num">${f.count}</td><td>${esc(f.last)}</td></tr>`,
        )
        .join("")}</tbody></table>`
    : `<p class="empty">every sampling of every source answered (${samples.length} samplings)</p>`;
  return `<h2>Server under test</h2>${check}${failures}`;
}
