/**
 * The read side of a node's run store: the runs (newest first, of one scenario when asked), one run's results,
 * two runs compared, a run's HTML report. The Node API serves it, and `openHistory` serves the CLI commands that run
 * without a node (`amoc runs`, `amoc report`), so no front end opens SQLite itself.
 */
import { existsSync } from "node:fs";
import { loadNodeSettings } from "../config/load.js";
import { UsageError } from "../errors.js";
import {
  compareCapacities,
  compareTables,
  type CapacityComparison,
  type MetricComparison,
} from "../results/compare.js";
import { compareSut } from "../results/compare-sut.js";
import { sutMaxima } from "../results/sut-series.js";
import { renderReport } from "../results/report.js";
import { readRunResults, type RunResults } from "../results/run-results.js";
import { RunStore } from "../results/store.js";
import { RunNotFoundError, type RunRecord } from "../results/store-types.js";
import { renderCapacityReport } from "./capacity/report.js";
import { runStorePath } from "./data-dir.js";
import type { RunQuery } from "./node-api.js";

/** Two runs compared: each metric, and for two capacity searches their capacities and per-step SLO values. */
export interface RunComparison {
  a: string;
  b: string;
  metrics: MetricComparison[];
  capacity?: CapacityComparison;
}

/** How many runs a listing returns unless told. */
export const DEFAULT_RUNS_LIMIT = 100;
/** How many runs a listing of one scenario reads at most to find its `limit` (the store filters by time only). */
const SCAN_LIMIT = 100_000;

/**
 * A run store read on demand: every call opens it read-only and closes it again (the recorder writes meanwhile). Its
 * methods are the Node API's history methods.
 */
export class History {
  constructor(readonly storePath: string) {}

  /** Nothing stays open between calls: for callers that release what they opened. */
  async close(): Promise<void> {}

  /** Whether any run was recorded yet. */
  exists(): boolean {
    return existsSync(this.storePath);
  }

  /** `fn` over the store opened read-only; RunNotFoundError when no run was ever recorded. */
  private read<T>(fn: (s: RunStore) => T): T {
    if (!this.exists()) throw new RunNotFoundError(`no run recorded yet (no run store at ${this.storePath})`);
    const s = RunStore.open(this.storePath, { readonly: true });
    try {
      return fn(s);
    } finally {
      s.close();
    }
  }

  /** The newest `limit` runs (default 100), of `scenario` only when given; none when nothing was recorded yet. */
  async runs(q: RunQuery = {}): Promise<RunRecord[]> {
    const limit = q.limit ?? DEFAULT_RUNS_LIMIT;
    if (!Number.isInteger(limit) || limit < 1)
      throw new UsageError(`limit must be an integer >= 1, got ${JSON.stringify(q.limit)}`, "e.g. {limit: 30}");
    if (q.scenario !== undefined && (typeof q.scenario !== "string" || q.scenario === ""))
      throw new UsageError("scenario must be a scenario name", "e.g. {scenario: 'dummy'}");
    if (!this.exists()) return [];
    return this.read((s) => {
      if (q.scenario === undefined) return s.listRuns(limit);
      return s
        .listRuns(SCAN_LIMIT)
        .filter((r) => r.scenario === q.scenario)
        .slice(0, limit);
    });
  }

  /** A run by id, unique prefix, 'last' or 'last~N' (RUN_NOT_FOUND otherwise). */
  async runResults(ref: string): Promise<RunResults> {
    return this.read((s) => readRunResults(s, ref));
  }

  /** Each metric of runs `a` and `b` side by side; two capacity searches also by capacity and per-step SLO values. */
  async compareRuns(a: string, b: string): Promise<RunComparison> {
    return this.read((s) => {
      const ra = readRunResults(s, a);
      const rb = readRunResults(s, b);
      const [ca, cb] = [s.capacity(ra.run.id), s.capacity(rb.run.id)];
      return {
        a: ra.run.id,
        b: rb.run.id,
        // the sut.* gauges of the tables are compared over their samplings instead (compare-sut.ts)
        metrics: [...compareTables(ra.table, rb.table), ...compareSut(ra.sut, rb.sut)],
        ...(ca && cb ? { capacity: compareCapacities(ca, cb) } : {}),
      };
    });
  }

  /** The run's HTML report; a capacity search's is its capacity report (a chart per SLO against users, the knee). */
  async report(ref: string): Promise<string> {
    return this.read((s) => {
      const res = readRunResults(s, ref);
      const c = s.capacity(res.run.id);
      if (!c) return renderReport(res);
      // the steps' server figures come from the run's stored samplings of the server under test
      const steps = c.steps.map((st) => {
        const server = sutMaxima(res.sut, st.from, st.to + res.run.intervalMs);
        return Object.keys(server).length ? { ...st, server } : st;
      });
      return renderCapacityReport({ ...c, steps, scenario: res.run.scenario, run_id: res.run.id });
    });
  }
}

/** The history of this machine's settings (env, config file) for a command that starts no node. */
export function openHistory(env: NodeJS.ProcessEnv = process.env): History {
  return new History(runStorePath(loadNodeSettings({ env }).data_dir, env));
}
