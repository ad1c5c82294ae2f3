/** Human-readable rendering of statuses and run summaries. */
import type { StatusReport } from "../controller/controller.js";
import type { ErrorSummary } from "../users/crash-tally.js";
import type { UserCounts } from "../users/user-pool.js";
import type { CounterSummary, TimingSummary } from "../results/summary.js";

/** The `amoc run --json` object. */
export interface RunSummary {
  scenario: string;
  users: Omit<UserCounts, "pending" | "removing">;
  duration_ms: number;
  settings: Record<string, unknown>;
  errors: ErrorSummary[];
  metrics: Record<string, CounterSummary | TimingSummary>;
  nodes?: Record<string, { started: number; finished: number; crashed: number; running: number }>;
  /** What went wrong outside the users (a node that failed, nothing started, a cluster problem), said in words. */
  problems?: RunProblem[];
}

/** One problem of a run: where, what, and what it affects. */
export interface RunProblem {
  node?: string;
  kind: string;
  message: string;
  affects?: string;
  count?: number;
}

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
    for (const [n, c] of Object.entries(s.nodes))
      lines.push(
        `node      ${n}: started ${c.started}  finished ${c.finished}  crashed ${c.crashed}  running ${c.running}`,
      );
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
        `  ${String(e.count).padStart(7)} x ${e.reason}  (${clockTime(e.first_seen)}..${clockTime(e.last_seen)}) e.g. ${e.message}`,
      );
  } else lines.push("errors    none");
  if (s.problems?.length) {
    lines.push("problems");
    for (const p of s.problems)
      lines.push(
        `  ${p.node ? `${p.node}: ` : ""}[${p.kind}] ${p.message}${p.affects ? ` (${p.affects})` : ""}${p.count && p.count > 1 ? ` x${p.count}` : ""}`,
      );
  }
  return lines.join("\n");
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
