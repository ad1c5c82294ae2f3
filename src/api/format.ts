/** Human-readable rendering of statuses and run summaries. */
import type { StatusReport } from "../controller/types.js";
import type { RunEnd, RunSummary } from "../node/node-api.js";
import type { SutSummary } from "../results/sut-series.js";
import type { LastInterval } from "../results/recorder.js";
import { signalText } from "../results/recording.js";

export type { RunProblem, RunSummary } from "../node/node-api.js";

function kv(o: Record<string, unknown>): string {
  return Object.entries(o)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
}

/** The end-of-run summary, one block of aligned lines. */
export function formatSummary(s: RunSummary): string {
  const u = s.users;
  const lines = [
    `scenario  ${s.scenario}   duration ${(s.duration_ms / 1000).toFixed(2)} s`,
    `users     started ${u.started}  finished ${u.finished}  crashed ${u.crashed}  removed ${u.removed}  running ${u.running}`,
    `settings  ${kv(s.settings)}`,
  ];
  if (s.nodes)
    for (const [n, c] of Object.entries(s.nodes)) {
      const redealt = Object.entries(c.redealt_to ?? {})
        .map(([to, k]) => `${k} to ${to}`)
        .join(", ");
      lines.push(
        `node      ${n}: started ${c.started}  finished ${c.finished}  crashed ${c.crashed}  running ${c.running}` +
          (c.lost ? `  LOST${redealt ? ` (users re-dealt: ${redealt})` : ""}` : ""),
      );
    }
  const metrics = Object.entries(s.metrics);
  if (metrics.length) {
    lines.push("metrics");
    for (const [name, m] of metrics) {
      if ("p50" in m)
        lines.push(
          `  ${name.padEnd(28)} count ${m.count}  min ${m.min}  p50 ${m.p50}  p95 ${m.p95}  p99 ${m.p99}  max ${m.max} ms`,
        );
      else lines.push(`  ${name.padEnd(28)} ${m.count}`);
    }
  }
  if (s.errors.length) {
    lines.push("errors by reason");
    for (const e of s.errors)
      lines.push(
        `  ${String(e.count).padStart(7)} x ${e.reason}  (${clockTime(e.first_seen)}..${clockTime(e.last_seen)}) e.g. ${e.message}${e.where ? ` at ${e.where}` : ""}`,
      );
  } else lines.push("errors    none");
  if (s.sut) lines.push(...formatSut(s.sut));
  if (s.problems?.length) {
    lines.push("problems");
    for (const p of s.problems)
      lines.push(
        `  ${p.node ? `${p.node}: ` : ""}[${p.kind}] ${p.message}${p.affects ? ` (${p.affects})` : ""}${p.count && p.count > 1 ? ` x${p.count}` : ""}`,
      );
  }
  return lines.join("\n");
}

/** The server under test: its main series' peaks, failed samplings, and our users online against its sessions. */
function formatSut(s: SutSummary): string[] {
  const max = (k: string) => s.series[k]?.max;
  const parts = [`sampled ${s.samples} times${s.failed ? `, ${s.failed} with a failed source` : ""}`];
  const cpu = max("sut.process_cpu");
  const rss = max("sut.process_rss_bytes");
  const sessions = max("sut.sessions");
  if (cpu !== undefined) parts.push(`CPU max ${cpu} cores`);
  if (rss !== undefined) parts.push(`RSS max ${(rss / 2 ** 20).toFixed(1)} MiB`);
  if (sessions !== undefined) parts.push(`sessions max ${sessions}`);
  const lines = [`server    ${parts.join("; ")}`];
  const p = s.sessions_at_peak;
  if (p)
    lines.push(
      `          at the peak: our users online ${p.users}, server sessions ${p.sessions} (${p.diffPct} % apart)${p.disagree ? `  DISAGREE: over 1 %${churnNote(p)}` : ""}`,
    );
  for (const [source, err] of Object.entries(s.errors)) lines.push(`          failed: ${source}: ${err}`);
  return lines;
}

/** Why counts may differ in a run without a plateau: the logins and logouts around the sampling instant. */
export function churnNote(p: { users: number; sessions: number; churn: number }): string {
  return p.churn > 0 && Math.abs(p.users - p.sessions) <= p.churn
    ? ` (within the ${p.churn} logins and logouts of that interval: users came and went as it was sampled)`
    : "";
}

/** One status, compact. */
export function formatStatus(s: StatusReport): string {
  const u = s.users;
  const lines = [
    `node ${s.node}: ${s.state}${s.scenario ? ` (${s.scenario})` : ""}`,
    `  users: running ${u.running}${u.removing ? ` (${u.removing} being removed)` : ""}, pending ${u.pending}, started ${u.started}, finished ${u.finished}, crashed ${u.crashed}, removed ${u.removed}`,
  ];
  if (s.last_id !== null) lines.push(`  ids: ${s.first_id}..${s.last_id}`);
  if (Object.keys(s.settings).length) lines.push(`  settings: ${kv(s.settings)}`);
  for (const e of s.errors) lines.push(`  error x${e.count} ${e.reason}: e.g. ${e.message}`);
  if (s.error) lines.push(`  error: ${s.error.message}\n  hint: ${s.error.hint}`);
  return lines.join("\n");
}

/** HH:MM:SS (UTC) of an epoch ms: when a reason was first and last seen. */
function clockTime(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19);
}

/** The lines after a run's summary: each threshold, the run id with its verdict, the report, what the store lost. */
export function formatRunEnd(end: RunEnd): string {
  const lines = end.thresholds.map(
    (t) =>
      `threshold ${t.ok ? "ok      " : t.status === "no_metric" ? "NO METRIC" : "BREACHED"}  ${t.expr}  (${t.message})`,
  );
  lines.push(
    `run ${end.run_id} recorded: ${end.verdict}${end.verdict === "interrupted" ? ` by ${signalText(end.exit_code)} (exit ${end.exit_code}): the summary covers the run until then` : ""}${end.report_path ? `; report ${end.report_path}` : ""}${end.junit_path ? `; junit ${end.junit_path}` : ""}`,
  );
  if (end.store_loss) lines.push(end.store_loss);
  return lines.join("\n");
}

/** One line on the last interval for a printed status ('' before the first): message rates, TTD and connection p99. */
export function formatLastInterval(last: LastInterval | null | undefined): string {
  if (!last) return "";
  const parts = [
    ["xmpp.messages_sent", "sent"],
    ["xmpp.messages_received", "received"],
  ].flatMap(([k, label]) => (last.rates[k!] === undefined ? [] : [`${label} ${last.rates[k!]}/s`]));
  for (const [k, label] of [
    ["xmpp.message_ttd", "TTD"],
    ["xmpp.connection", "connect"],
  ] as const)
    if (last.p99[k] !== undefined) parts.push(`${label} p99 ${last.p99[k]} ms`);
  if (last.rates["users.started"] !== undefined) parts.push(`users started ${last.rates["users.started"]}/s`);
  return `last interval (${new Date(last.t).toISOString().slice(11, 19)}, ${last.ms / 1000} s): ${parts.join(", ") || "no messages"}`;
}
