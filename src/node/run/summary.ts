/**
 * The one builder of a run's summary: user counts per node (a node lost during the run kept with its last counts,
 * marked lost), crashes merged by reason, the metrics of the run's merged totals (the results/ pipeline every other
 * view reads), and the run's problems.
 */
import type { StatusReport } from "../../controller/types.js";
import type { MetricStats } from "../../results/merge.js";
import type { CounterSummary, TimingSummary } from "../../results/summary.js";
import type { ErrorSummary } from "../../users/crash-tally.js";
import type { CommandResult, NodeOutcome, PerNode, RunProblem, RunSummary } from "../node-api.js";

/** Counted on every delivery kept for a later wait: left out unless something was dropped (then both tell). */
const QUIET_UNLESS: Record<string, string> = { "xmpp.stanzas_buffered": "xmpp.stanzas_dropped" };

/** A failed node entry as the master gives it for a node lost during the run (fields absent otherwise). */
interface LostEntry {
  lost?: boolean;
  last?: { started: number; finished: number; crashed: number; running: number } | null;
  redealt_to?: Record<string, number>;
}

/** What a run learnt about one node while it ran (from every status and the stop). */
export interface SeenNode extends NodeOutcome {
  errors: ErrorSummary[];
}

/**
 * Notes what one start, status or stop result says about each node into `seen`; a node that fails to answer is lost.
 * `newcomers: "active"` (a status, which lists every live worker): a node not seen yet counts only once it started
 * users (a worker the run did not select is no part of it).
 */
export function noteNodes(
  seen: Map<string, SeenNode>,
  nodes: Record<string, PerNode<unknown>>,
  lost: string[] = [],
  newcomers: "all" | "active" = "all",
) {
  for (const [name, r] of Object.entries(nodes)) {
    const had = seen.get(name);
    if (!had && newcomers === "active" && !(r.ok && ((r.result as Partial<StatusReport>).users?.started ?? 0) > 0))
      continue;
    if (!r.ok) {
      // a node that answered before and does not now is lost: its last counts stand, or the master's record of them
      // (cluster/master/types.ts LostNode: the counts it last reported and exactly where its users were re-dealt)
      const l = r as LostEntry;
      const base = had ?? { started: 0, finished: 0, crashed: 0, running: 0, errors: [] };
      const last = l.last && l.last.started >= base.started ? l.last : undefined;
      seen.set(name, {
        ...base,
        ...(last
          ? { started: last.started, finished: last.finished, crashed: last.crashed, running: last.running }
          : {}),
        lost: true,
        ...(l.redealt_to && Object.keys(l.redealt_to).length ? { redealt_to: { ...l.redealt_to } } : {}),
      });
      continue;
    }
    const s = r.result as Partial<StatusReport>;
    if (!s.users) {
      if (!had) seen.set(name, { started: 0, finished: 0, crashed: 0, running: 0, errors: [] });
      continue;
    }
    const u = s.users;
    seen.set(name, {
      started: u.started ?? 0,
      finished: u.finished ?? 0,
      crashed: u.crashed ?? 0,
      running: u.running ?? 0,
      errors: s.errors ?? had?.errors ?? [],
      ...(had?.lost ? { lost: true } : {}),
      ...(had?.redealt_to ? { redealt_to: had.redealt_to } : {}),
    });
  }
  for (const name of lost) {
    const had = seen.get(name) ?? { started: 0, finished: 0, crashed: 0, running: 0, errors: [] };
    seen.set(name, { ...had, lost: true });
  }
}

/** A lost node's users went to `to`: dealt round-robin, so each took an equal share (the first ones one more). */
export function noteRedeal(seen: Map<string, SeenNode>, node: string, count: number, to: string[]): void {
  const had = seen.get(node) ?? { started: 0, finished: 0, crashed: 0, running: 0, errors: [] };
  const redealt: Record<string, number> = { ...had.redealt_to };
  to.forEach((t, i) => {
    const share = Math.floor(count / to.length) + (i < count % to.length ? 1 : 0);
    if (share > 0) redealt[t] = (redealt[t] ?? 0) + share;
  });
  seen.set(node, { ...had, lost: true, ...(Object.keys(redealt).length ? { redealt_to: redealt } : {}) });
}

/** The summary's `metrics` from the run's merged totals: counters by count, timings by their statistics. */
export function summaryMetrics(totals: Record<string, MetricStats>): Record<string, CounterSummary | TimingSummary> {
  const out: Record<string, CounterSummary | TimingSummary> = {};
  const count = (k: string) => {
    const m = totals[k];
    return m && m.kind !== "gauge" ? m.count : 0;
  };
  for (const [k, m] of Object.entries(totals)) {
    if (m.kind === "gauge") continue;
    const unless = QUIET_UNLESS[k];
    if (unless !== undefined && !(count(unless) > 0)) continue;
    if (m.kind === "counter") out[k] = { count: m.count };
    else {
      const { kind: _kind, rate: _rate, ...stats } = m;
      out[k] = stats;
    }
  }
  return out;
}

/** The same reason from several nodes: one entry with the summed count, the first example, the widest time span. */
export function mergeErrors(errors: ErrorSummary[]): ErrorSummary[] {
  const byReason = new Map<string, ErrorSummary>();
  for (const e of errors) {
    const seen = byReason.get(e.reason);
    if (!seen) byReason.set(e.reason, { ...e });
    else {
      seen.count += e.count;
      seen.first_seen = Math.min(seen.first_seen, e.first_seen);
      seen.last_seen = Math.max(seen.last_seen, e.last_seen);
      if (seen.where === undefined && e.where !== undefined) seen.where = e.where;
    }
  }
  return [...byReason.values()].sort((a, b) => b.count - a.count);
}

/** What the summary is built from. */
export interface SummaryInput {
  runId: string;
  scenario: string;
  durationMs: number;
  /** The request's settings (used when no node reports its resolved settings). */
  settings: Record<string, unknown>;
  /** The stop result (undefined: the run ended without a stop, e.g. the node closed). */
  stop: CommandResult | undefined;
  /** Every node seen during the run, the stop's answers noted last. */
  seen: Map<string, SeenNode>;
  totals: Record<string, MetricStats>;
  problems: RunProblem[];
  /** List the nodes (a cluster run; a local run is this node alone). */
  perNode: boolean;
}

/** Builds the one summary of a run; see the file comment. */
export function buildRunSummary(i: SummaryInput): RunSummary {
  const users = { running: 0, started: 0, finished: 0, crashed: 0, removed: 0 };
  const errors: ErrorSummary[] = [];
  let settings: Record<string, unknown> | undefined;
  let scenario: string | undefined;
  for (const r of Object.values(i.stop?.nodes ?? {})) {
    if (!r.ok) continue;
    const s = r.result as Partial<StatusReport>;
    // the nodes' view of the settings: parsed and complete (defaults included), unlike the request's
    settings ??= s.settings;
    scenario ??= s.scenario ?? undefined;
    if (!s.users) continue;
    for (const k of Object.keys(users) as Array<keyof typeof users>) users[k] += s.users[k] ?? 0;
  }
  const nodes: Record<string, NodeOutcome> = {};
  for (const [name, n] of [...i.seen].sort((a, b) => a[0].localeCompare(b[0]))) {
    const { errors: e, ...outcome } = n;
    errors.push(...e);
    // a lost node's counts are listed, not added: its unfinished users were re-dealt and counted where they ran
    nodes[name] = outcome;
  }
  const summary: RunSummary = {
    run_id: i.runId,
    scenario: scenario ?? i.scenario,
    users,
    duration_ms: Math.round(i.durationMs),
    // a shaped run's load shape, as the request gave it (the nodes' settings leave it out): what the run asked for
    settings: { ...(settings ?? i.settings), ...loadShape(i.settings) },
    errors: mergeErrors(errors),
    metrics: summaryMetrics(i.totals),
  };
  if (i.perNode) summary.nodes = nodes;
  if (i.problems.length) summary.problems = i.problems;
  return summary;
}

/** The request's load shape (stages, arrival_rate) when it has one. */
function loadShape(settings: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ["stages", "arrival_rate"])
    if (Array.isArray(settings[k]) && (settings[k] as unknown[]).length) out[k] = settings[k];
  return out;
}
