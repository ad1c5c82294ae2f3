/**
 * `amoc runs`: the node's run history (every run, whichever front end started it): list (of one scenario with
 * `--name`), `show ID`, `compare A B`. It reads through the Node API's history (`openHistory`), never the store.
 */
import { parseArgs } from "node:util";
import { UsageError } from "../../errors.js";
import { openHistory } from "../../node/history.js";
import { capacityCompareText } from "./capacity-compare.js";
import type { NodeApi } from "../../node/node-api.js";
import { COMPARED, type MetricComparison } from "../../results/compare.js";
import type { MetricStats } from "../../results/merge.js";
import { RUN_STORE_FILE, type RunRecord } from "../../results/store-types.js";

export const RUNS_USAGE = `usage: amoc runs [--name SCENARIO] [--limit N] [--json]   the recorded runs, latest first
       amoc runs show ID [--json]                 one run: header, thresholds, every metric, events
       amoc runs compare A B [--json]             each metric of A and B side by side, change in %, regressions (!);
                                                  two capacity searches: their capacities and each SLO per step
  --name: only the runs of that scenario. ID: a run id, a unique prefix of one, 'last' or 'last~N'; the store is
  <data_dir>/${RUN_STORE_FILE} (data_dir unset: <AMOC_RUN_DIR or .run>/amoc/${RUN_STORE_FILE}, shared by the nodes
  of this machine)`;

/** What `runs` reads: the history part of the Node API. */
type History = Pick<NodeApi, "runs" | "runResults" | "compareRuns">;

function when(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19);
}

function duration(r: RunRecord): string {
  return r.endedAt === null ? "-" : `${((r.endedAt - r.startedAt) / 1000).toFixed(1)} s`;
}

/** A run's verdict as listed: a run with no end recorded is `incomplete` (or still running). */
export function verdictText(r: RunRecord): string {
  return r.endedAt === null ? "incomplete" : r.verdict;
}

function table(rows: string[][], right: Set<number> = new Set()): string {
  const w = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => (right.has(i) ? c.padStart(w[i] ?? 0) : c.padEnd(w[i] ?? 0)))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

const num = (x: number | null | undefined): string =>
  x === null || x === undefined ? "-" : Number.isInteger(x) ? String(x) : x.toFixed(2);

function metricsTable(t: Record<string, MetricStats>): string {
  const rows = [["METRIC", "KIND", "COUNT", "RATE/S", "MIN", "P50", "P95", "P99", "MAX"]];
  for (const [k, s] of Object.entries(t)) {
    if (s.kind === "counter") rows.push([k, s.kind, num(s.count), num(s.rate), "", "", "", "", ""]);
    else if (s.kind === "gauge") rows.push([k, s.kind, num(s.last), "", num(s.min), "", "", "", num(s.max)]);
    else rows.push([k, s.kind, num(s.count), num(s.rate), num(s.min), num(s.p50), num(s.p95), num(s.p99), num(s.max)]);
  }
  return table(rows, new Set([2, 3, 4, 5, 6, 7, 8]));
}

async function list(h: History, q: { limit: number; scenario?: string }, json: boolean): Promise<string> {
  const runs = await h.runs(q);
  if (json) return JSON.stringify(runs.map((r) => ({ ...r, verdict: verdictText(r) }))) + "\n";
  if (!runs.length)
    return q.scenario
      ? `no runs of '${q.scenario}' recorded (bin/amoc runs lists every scenario's)\n`
      : "no runs recorded yet (bin/amoc run ... records one)\n";
  return table(
    [
      ["ID", "SCENARIO", "KIND", "STARTED (UTC)", "USERS", "DURATION", "VERDICT"],
      ...runs.map((r) => [r.id, r.scenario, r.kind, when(r.startedAt), String(r.users), duration(r), verdictText(r)]),
    ],
    new Set([4, 5]),
  );
}

async function show(h: History, ref: string, json: boolean): Promise<string> {
  const res = await h.runResults(ref);
  const r = res.run;
  if (json)
    return (
      JSON.stringify({
        run: { ...r, verdict: verdictText(r) },
        metrics: res.table,
        thresholds: res.thresholds,
        events: res.events,
        nodes: Object.keys(res.perNode),
      }) + "\n"
    );
  let out = `run       ${r.id}\nscenario  ${r.scenario}${r.sourceHash ? ` (source ${r.sourceHash})` : ""}\nstarted   ${when(r.startedAt)} UTC   duration ${duration(r)}   users ${r.users}\nnodes     ${r.nodes.join(", ")}\nverdict   ${verdictText(r)}${r.exitCode !== null ? ` (exit ${r.exitCode})` : ""}\n`;
  out += `settings  ${
    Object.entries(r.settings)
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(" ") || "(defaults)"
  }\n`;
  if (res.thresholds.length) {
    out +=
      "\nthresholds\n" +
      res.thresholds
        .map(
          (t) =>
            `  ${t.ok ? "ok      " : t.status === "no_metric" ? "NO METRIC" : "BREACHED"}  ${t.expr}   ${t.message}`,
        )
        .join("\n") +
      "\n";
  }
  out += "\n" + metricsTable(res.table);
  if (res.events.length)
    out +=
      "\nevents\n" +
      res.events.map((e) => `  ${when(e.t)}  ${e.node}  ${e.kind} ${JSON.stringify(e.data)}`).join("\n") +
      "\n";
  return out;
}

/** Why two runs' figures may not be comparable (undefined: same scenario). */
export function compareWarning(a: RunRecord, b: RunRecord): string | undefined {
  return a.scenario === b.scenario
    ? undefined
    : `A ran ${a.scenario} and B ran ${b.scenario}: different scenarios measure different things, so the changes and regressions below compare unlike with unlike`;
}

function compareText(a: RunRecord, b: RunRecord, rows: MetricComparison[]): string {
  const head = ["METRIC", "STAT", a.id, b.id, "CHANGE", ""];
  const out: string[][] = [head];
  for (const m of rows) {
    for (const stat of COMPARED) {
      const s = m.stats[stat];
      if (!s) continue;
      out.push([
        m.metric,
        stat,
        num(s.a),
        num(s.b),
        s.changePct === null ? "" : `${s.changePct > 0 ? "+" : ""}${s.changePct.toFixed(1)}%`,
        s.regression ? "! regression" : "",
      ]);
    }
  }
  const regressions = rows.filter((m) => m.regression).map((m) => m.metric);
  const warning = compareWarning(a, b);
  return (
    (warning ? `warning: ${warning}\n` : "") +
    `A ${a.id}  ${a.scenario}  ${when(a.startedAt)}  users ${a.users}  ${duration(a)}  ${verdictText(a)}\n` +
    `B ${b.id}  ${b.scenario}  ${when(b.startedAt)}  users ${b.users}  ${duration(b)}  ${verdictText(b)}\n\n` +
    table(out, new Set([2, 3, 4])) +
    `\n${regressions.length ? `regressions in B: ${regressions.join(", ")}` : "no regressions in B"} (latency +${10}% and +1 ms, error rates +10%)\n`
  );
}

/** Runs `amoc runs ...`; returns the exit code. */
export async function runsCommand(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        limit: { type: "string" },
        name: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message, RUNS_USAGE);
  }
  const { values: v, positionals: p } = parsed;
  if (v.help) {
    out.write(RUNS_USAGE + "\n");
    return 0;
  }
  const json = v.json === true;
  const sub = p[0];
  if (sub !== undefined && (v.name !== undefined || v.limit !== undefined))
    throw new UsageError(`--name and --limit are for the list, not '${sub}'`, RUNS_USAGE);
  const history = openHistory(env);
  try {
    out.write(await answer(history, p, v, json));
  } finally {
    await history.close();
  }
  return 0;
}

/** The text `runs ...` prints. */
async function answer(h: History, p: string[], v: { limit?: string; name?: string }, json: boolean): Promise<string> {
  const sub = p[0];
  if (sub === undefined) {
    const limit = v.limit === undefined ? 30 : Number(v.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new UsageError(`--limit must be an integer >= 1, got '${v.limit}'`, RUNS_USAGE);
    if (v.name === "") throw new UsageError("--name needs a scenario name", RUNS_USAGE);
    return list(h, { limit, ...(v.name === undefined ? {} : { scenario: v.name }) }, json);
  }
  if (sub === "show" && p.length === 2) return show(h, p[1] as string, json);
  if (sub === "compare" && p.length === 3) {
    const [a, b] = [p[1] as string, p[2] as string];
    const c = await h.compareRuns(a, b);
    const [ra, rb] = await Promise.all([h.runResults(c.a), h.runResults(c.b)]);
    if (json) {
      const warning = compareWarning(ra.run, rb.run);
      return JSON.stringify(warning ? { ...c, warning } : c) + "\n";
    }
    return (
      (c.capacity ? capacityCompareText(c.a, c.b, c.capacity) + "\n" : "") + compareText(ra.run, rb.run, c.metrics)
    );
  }
  throw new UsageError(`unexpected arguments: ${p.join(" ")}`, RUNS_USAGE);
}
