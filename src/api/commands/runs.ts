/** `amoc runs`: the run history in the run store: list, `show ID`, `compare A B`. */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadNodeSettings } from "../../config/load.js";
import { UsageError } from "../../errors.js";
import { dataRoot } from "../../node/data-dir.js";
import { compareTables, COMPARED, type MetricComparison } from "../../results/compare.js";
import type { MetricStats } from "../../results/merge.js";
import { readRunResults } from "../../results/run-results.js";
import { RunStore } from "../../results/store.js";
import { RUN_STORE_FILE, type RunRecord } from "../../results/store-types.js";

export const RUNS_USAGE = `usage: amoc runs [--limit N] [--json]          the recorded runs, latest first
       amoc runs show ID [--json]                 one run: header, thresholds, every metric, events
       amoc runs compare A B [--json]             each metric of A and B side by side, change in %, regressions (!)
  ID: a run id, a unique prefix of one, 'last' or 'last~N'; the store is <data_dir>/${RUN_STORE_FILE}
  (data_dir unset: <AMOC_RUN_DIR or .run>/amoc/${RUN_STORE_FILE}, shared by the nodes of this machine)`;

/**
 * The run store's file: `<data_dir>/runs.sqlite` when `data_dir` is set, else `<run dir>/amoc/runs.sqlite`. (The
 * default data directory is per node name, and `amoc run`'s default node name holds its pid, so the history of
 * one-off runs would scatter; their shared parent keeps it in one place.)
 */
export function runStorePath(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return dataDir ? join(resolve(dataDir), RUN_STORE_FILE) : join(dataRoot(env), RUN_STORE_FILE);
}

/** The store of this machine's settings (env, config file), opened read-only. */
export function openStoreForReading(env: NodeJS.ProcessEnv = process.env): RunStore {
  return RunStore.open(runStorePath(loadNodeSettings({ env }).data_dir, env), { readonly: true });
}

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

function list(store: RunStore, limit: number, json: boolean): string {
  const runs = store.listRuns(limit);
  if (json) return JSON.stringify(runs.map((r) => ({ ...r, verdict: verdictText(r) }))) + "\n";
  if (!runs.length) return "no runs recorded yet (bin/amoc run ... records one)\n";
  return table(
    [
      ["ID", "SCENARIO", "STARTED (UTC)", "USERS", "DURATION", "VERDICT"],
      ...runs.map((r) => [r.id, r.scenario, when(r.startedAt), String(r.users), duration(r), verdictText(r)]),
    ],
    new Set([3, 4]),
  );
}

function show(store: RunStore, ref: string, json: boolean): string {
  const res = readRunResults(store, ref);
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
      res.thresholds.map((t) => `  ${t.ok ? "ok      " : "BREACHED"}  ${t.expr}   ${t.message}`).join("\n") +
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
  return (
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
      options: { json: { type: "boolean" }, limit: { type: "string" }, help: { type: "boolean", short: "h" } },
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
  if (sub === undefined) {
    const limit = v.limit === undefined ? 30 : Number(v.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new UsageError(`--limit must be an integer >= 1, got '${v.limit}'`, RUNS_USAGE);
    let store: RunStore;
    try {
      store = openStoreForReading(env);
    } catch {
      out.write(json ? "[]\n" : "no runs recorded yet (bin/amoc run ... records one)\n");
      return 0;
    }
    try {
      out.write(list(store, limit, json));
    } finally {
      store.close();
    }
    return 0;
  }
  if (sub === "show" && p.length === 2) {
    const store = openStoreForReading(env);
    try {
      out.write(show(store, p[1] as string, json));
    } finally {
      store.close();
    }
    return 0;
  }
  if (sub === "compare" && p.length === 3) {
    const store = openStoreForReading(env);
    try {
      const a = readRunResults(store, p[1] as string);
      const b = readRunResults(store, p[2] as string);
      const rows = compareTables(a.table, b.table);
      out.write(
        json ? JSON.stringify({ a: a.run.id, b: b.run.id, metrics: rows }) + "\n" : compareText(a.run, b.run, rows),
      );
    } finally {
      store.close();
    }
    return 0;
  }
  throw new UsageError(`unexpected arguments: ${p.join(" ")}`, RUNS_USAGE);
}
