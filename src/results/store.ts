/**
 * The run store: every run (id, scenario, source hash, settings, nodes, start/end, summary, verdict), its intervals,
 * events and thresholds in one SQLite file (better-sqlite3 12.x: synchronous, fast, and the 13.x line needs Node 22).
 * The only importer of better-sqlite3; what a run record is (and its id) is store-types.ts. WAL journal: each interval is committed as it arrives, so a writer that dies
 * mid-run leaves every interval written so far readable, and readers never block the writer.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { UsageError } from "../errors.js";
import { decodeInterval, encodeInterval, type EncodedInterval, type RunEventRecord } from "./interval.js";
import type { EncodedTotals } from "./merge.js";
import type { MergedRow } from "./merged-row.js";
import { newRunId, RunNotFoundError, type NewRun, type RunEnd, type RunRecord } from "./store-types.js";
import type { ThresholdResult } from "./thresholds.js";
import type { SutSample } from "./sut-series.js";
import { readCapacity, writeCapacity, type CapacityRecord } from "./capacity-record.js";
import { json, migrate, toRecord, type RunRow } from "./store-schema.js";

/** One SQLite file of runs; see the file comment. */
export class RunStore {
  private readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens (creating it and its directory unless `readonly`) the store at `path`. */
  static open(path: string, opts: { readonly?: boolean } = {}): RunStore {
    if (!opts.readonly) mkdirSync(dirname(path), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(path, {
        readonly: opts.readonly === true,
        fileMustExist: opts.readonly === true,
        timeout: 5000,
      });
    } catch (e) {
      throw new UsageError(
        `cannot open the run store ${path}: ${(e as Error).message}`,
        opts.readonly
          ? "no run was recorded here yet: `bin/amoc run ...` records one (set AMOC_DATA_DIR to read another data directory)"
          : "check the data directory (AMOC_DATA_DIR) is writable",
      );
    }
    if (!opts.readonly) {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = NORMAL");
      migrate(db);
    }
    return new RunStore(db);
  }

  // capacity searches: their own block (results/capacity-record.ts holds the SQL)
  /** The columns a listing reads: `kind` only where the store has it (a read-only store from before it). */
  private get listColumns(): string {
    const cols = (this.db.prepare("PRAGMA table_info(runs)").all() as Array<{ name: string }>).map((c) => c.name);
    const base =
      "id, scenario, source_hash, settings, nodes, users, interval_ms, started_at, ended_at, summary, verdict, exit_code";
    return cols.includes("kind") ? `${base}, kind` : base;
  }

  /** Stores a capacity search's outcome and steps on its run, which becomes a run of kind `capacity`. */
  recordCapacity(runId: string, c: CapacityRecord): void {
    this.db.transaction(() => writeCapacity(this.db, runId, c))();
  }

  /** The run's capacity search (undefined: a plain run). */
  capacity(runId: string): CapacityRecord | undefined {
    return readCapacity(this.db, runId);
  }
  // end of capacity searches

  /** Records a new run (verdict `running`) and returns its id. */
  createRun(r: NewRun): string {
    const id = r.id ?? newRunId(r.startedAt);
    this.db
      .prepare(
        "INSERT INTO runs (id, scenario, source_hash, settings, nodes, users, interval_ms, started_at, verdict) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running')",
      )
      .run(id, r.scenario, r.sourceHash ?? null, json(r.settings), json(r.nodes), r.users, r.intervalMs, r.startedAt);
    return id;
  }

  /** Removes a run and everything of it (a start that was refused: no run took place). */
  deleteRun(runId: string): void {
    this.db.transaction(() => {
      for (const t of ["intervals", "merged", "events", "thresholds", "sut_samples", "capacity", "capacity_steps"])
        this.db.prepare(`DELETE FROM ${t} WHERE run_id = ?`).run(runId);
      this.db.prepare("DELETE FROM runs WHERE id = ?").run(runId);
    })();
  }

  /** Stores one node's interval (committed at once; a repeat of the same node and time replaces it). */
  addInterval(runId: string, i: EncodedInterval): void {
    this.db
      .prepare("INSERT OR REPLACE INTO intervals (run_id, node, t, data) VALUES (?, ?, ?, ?)")
      .run(runId, i.node, i.t, encodeInterval(i));
  }

  addEvent(runId: string, e: RunEventRecord): void {
    this.db
      .prepare("INSERT INTO events (run_id, t, kind, node, data) VALUES (?, ?, ?, ?, ?)")
      .run(runId, e.t, e.kind, e.node, json(e.data));
  }

  /** Stores the merged interval of time `t` (all nodes' parts); its histograms in a column of their own. */
  addMerged(runId: string, row: MergedRow): void {
    const { h, ...rest } = row;
    this.db
      .prepare("INSERT OR REPLACE INTO merged (run_id, t, data, hist) VALUES (?, ?, ?, ?)")
      .run(runId, row.t, JSON.stringify(rest), JSON.stringify(h));
  }

  /** Every merged interval of a run, by time; without `withHistograms`, `h` is empty (the report needs only `s`). */
  mergedRows(runId: string, withHistograms = true): MergedRow[] {
    const rows = this.db
      .prepare(`SELECT data${withHistograms ? ", hist" : ""} FROM merged WHERE run_id = ? ORDER BY t`)
      .all(runId) as Array<{ data: string; hist?: string }>;
    return rows.map((r) => ({
      ...(JSON.parse(r.data) as Omit<MergedRow, "h">),
      h: r.hist ? (JSON.parse(r.hist) as Record<string, string>) : {},
    }));
  }

  /** The nodes' intervals of the times that have no merged row (a recorder that died before merging them). */
  unmergedIntervals(runId: string): EncodedInterval[] {
    const rows = this.db
      .prepare(
        "SELECT data FROM intervals i WHERE run_id = ? AND NOT EXISTS (SELECT 1 FROM merged m WHERE m.run_id = i.run_id AND m.t = i.t) ORDER BY t, node",
      )
      .all(runId) as Array<{ data: string }>;
    return rows.map((r) => decodeInterval(r.data));
  }

  /** The run's totals stored at its end (undefined: it did not end, or an older store). */
  totals(runId: string): EncodedTotals | undefined {
    const r = this.db.prepare("SELECT totals FROM runs WHERE id = ?").get(runId) as
      { totals: string | null } | undefined;
    return r?.totals ? (JSON.parse(r.totals) as EncodedTotals) : undefined;
  }

  /** Records the end: summary, verdict, exit code, thresholds (one transaction). */
  finishRun(runId: string, end: RunEnd, thresholds: readonly ThresholdResult[] = []): void {
    const tx = this.db.transaction(() => {
      this.db
        .prepare(
          "UPDATE runs SET ended_at = ?, summary = ?, verdict = ?, exit_code = ?, nodes = COALESCE(?, nodes), settings = COALESCE(?, settings) WHERE id = ?",
        )
        .run(
          end.endedAt,
          json(end.summary),
          end.verdict,
          end.exitCode,
          end.nodes ? json(end.nodes) : null,
          end.settings ? json(end.settings) : null,
          runId,
        );
      if (end.totals) this.db.prepare("UPDATE runs SET totals = ? WHERE id = ?").run(JSON.stringify(end.totals), runId);
      this.db.prepare("DELETE FROM thresholds WHERE run_id = ?").run(runId);
      const ins = this.db.prepare(
        "INSERT INTO thresholds (run_id, expr, metric, stat, op, value, actual, ok, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      );
      for (const t of thresholds)
        ins.run(runId, t.expr, t.metric, t.stat, t.op, t.value, t.actual, t.ok ? 1 : 0, t.message);
    });
    tx();
  }

  /** The latest runs first. */
  listRuns(limit = 50): RunRecord[] {
    return (
      this.db
        .prepare(`SELECT ${this.listColumns} FROM runs ORDER BY started_at DESC, id DESC LIMIT ?`)
        .all(limit) as RunRow[]
    ).map(toRecord);
  }

  /** A run by id, unique id prefix, `last` or `last~N` (N runs before the last); throws RunNotFoundError. */
  getRun(ref: string): RunRecord {
    const m = /^last(?:~(\d+))?$/.exec(ref);
    if (m) {
      const n = Number(m[1] ?? 0);
      const r = this.db.prepare("SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT 1 OFFSET ?").get(n) as
        RunRow | undefined;
      if (!r) throw new RunNotFoundError(n ? `there are fewer than ${n + 1} runs` : "no run recorded yet");
      return toRecord(r);
    }
    const rows = this.db
      .prepare("SELECT * FROM runs WHERE id = ? OR substr(id, 1, ?) = ? LIMIT 3")
      .all(ref, ref.length, ref) as RunRow[];
    const exact = rows.find((r) => r.id === ref);
    if (exact) return toRecord(exact);
    if (rows.length === 1) return toRecord(rows[0] as RunRow);
    if (rows.length === 0) throw new RunNotFoundError(`no run '${ref}'`);
    throw new RunNotFoundError(`'${ref}' names several runs (${rows.map((r) => r.id).join(", ")}, ...)`);
  }

  /** Every stored interval of a run (all nodes), by time. */
  intervals(runId: string): EncodedInterval[] {
    return (
      this.db.prepare("SELECT data FROM intervals WHERE run_id = ? ORDER BY t, node").all(runId) as Array<{
        data: string;
      }>
    ).map((r) => decodeInterval(r.data));
  }

  events(runId: string): RunEventRecord[] {
    return (
      this.db.prepare("SELECT t, kind, node, data FROM events WHERE run_id = ? ORDER BY t").all(runId) as Array<{
        t: number;
        kind: string;
        node: string;
        data: string;
      }>
    ).map((r) => ({ t: r.t, kind: r.kind, node: r.node, data: JSON.parse(r.data) as Record<string, unknown> }));
  }

  thresholds(runId: string): ThresholdResult[] {
    const rows = this.db
      .prepare(
        "SELECT expr, metric, stat, op, value, actual, ok, message FROM thresholds WHERE run_id = ? ORDER BY rowid",
      )
      .all(runId) as Array<Omit<ThresholdResult, "ok"> & { ok: number }>;
    return rows.map((r) => ({ ...r, ok: r.ok === 1 }));
  }

  /** Stores one sampling of the server under test (a repeat of the same time replaces it). */
  addSutSample(runId: string, s: SutSample): void {
    this.db
      .prepare("INSERT OR REPLACE INTO sut_samples (run_id, t, data) VALUES (?, ?, ?)")
      .run(runId, Math.round(s.t), JSON.stringify({ values: s.values, ...(s.errors ? { errors: s.errors } : {}) }));
  }

  /** The run's samplings of the server under test, by time (none in a store older than them). */
  sutSamples(runId: string): SutSample[] {
    if (!this.db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'sut_samples'").get()) return [];
    const rows = this.db.prepare("SELECT t, data FROM sut_samples WHERE run_id = ? ORDER BY t").all(runId) as Array<{
      t: number;
      data: string;
    }>;
    return rows.map((r) => ({ t: r.t, ...(JSON.parse(r.data) as Omit<SutSample, "t">) }));
  }

  close(): void {
    this.db.close();
  }
}
