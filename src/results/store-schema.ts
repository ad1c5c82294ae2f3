/**
 * The run store's tables (results/store.ts opens the file): the schema, what an older file gains on open (columns
 * and tables added since it was made, never a rewrite), and how a `runs` row becomes a RunRecord.
 */
import { CAPACITY_SCHEMA } from "./capacity-record.js";
import type { RunRecord, Verdict } from "./store-types.js";

/** What the migration needs of a SQLite connection (better-sqlite3's, in store.ts). */
export interface SchemaDb {
  exec(sql: string): unknown;
  prepare(sql: string): { all(): unknown[] };
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id TEXT PRIMARY KEY, scenario TEXT NOT NULL, source_hash TEXT, settings TEXT NOT NULL, nodes TEXT NOT NULL,
  users INTEGER NOT NULL, interval_ms INTEGER NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER,
  summary TEXT, verdict TEXT NOT NULL, exit_code INTEGER);
CREATE INDEX IF NOT EXISTS runs_started ON runs(started_at);
CREATE TABLE IF NOT EXISTS intervals (
  run_id TEXT NOT NULL, node TEXT NOT NULL, t INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (run_id, t, node));
CREATE TABLE IF NOT EXISTS merged (run_id TEXT NOT NULL, t INTEGER NOT NULL, data TEXT NOT NULL, hist TEXT NOT NULL, PRIMARY KEY (run_id, t));
CREATE TABLE IF NOT EXISTS events (
  run_id TEXT NOT NULL, t INTEGER NOT NULL, kind TEXT NOT NULL, node TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_run ON events(run_id, t);
CREATE TABLE IF NOT EXISTS thresholds (
  run_id TEXT NOT NULL, expr TEXT NOT NULL, metric TEXT NOT NULL, stat TEXT NOT NULL, op TEXT NOT NULL,
  value REAL NOT NULL, actual REAL, ok INTEGER NOT NULL, message TEXT NOT NULL);
`;

/** One row per sampling of the server under test: its values and failed sources as JSON (results/sut-series.ts). */
const SUT_SCHEMA = `CREATE TABLE IF NOT EXISTS sut_samples (
  run_id TEXT NOT NULL, t INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (run_id, t));`;

export interface RunRow {
  id: string;
  scenario: string;
  source_hash: string | null;
  settings: string;
  nodes: string;
  users: number;
  interval_ms: number;
  started_at: number;
  ended_at: number | null;
  summary: string | null;
  verdict: string;
  exit_code: number | null;
  kind?: string | null;
}

export function toRecord(r: RunRow): RunRecord {
  return {
    id: r.id,
    scenario: r.scenario,
    sourceHash: r.source_hash,
    settings: JSON.parse(r.settings) as Record<string, unknown>,
    nodes: JSON.parse(r.nodes) as string[],
    users: r.users,
    intervalMs: r.interval_ms,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    summary: r.summary === null ? null : (JSON.parse(r.summary) as Record<string, unknown>),
    // a run still marked running with no end was cut short (its writer died); the reader cannot tell a live one apart
    verdict: r.verdict as Verdict,
    exitCode: r.exit_code,
    kind: r.kind === "capacity" ? "capacity" : "run",
  };
}

/** JSON that survives Infinity (repeat_num) and other non-JSON numbers. */
export function json(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === "number" && !Number.isFinite(x) ? String(x) : x));
}

function columns(db: SchemaDb, table: string): string[] {
  return (db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map((c) => c.name);
}

/** Creates the tables a new file lacks and adds what an older file lacks. */
export function migrate(db: SchemaDb): void {
  db.exec(SCHEMA);
  const cols = columns(db, "runs");
  if (!cols.includes("totals")) db.exec("ALTER TABLE runs ADD COLUMN totals TEXT");
  if (!columns(db, "merged").includes("hist")) db.exec("ALTER TABLE merged ADD COLUMN hist TEXT NOT NULL DEFAULT '{}'");
  // the server under test's samples (src/sut/), beside the load's intervals
  db.exec(SUT_SCHEMA);
  // capacity searches (results/capacity-record.ts): a run's kind, and the search's outcome and steps
  if (!cols.includes("kind")) db.exec("ALTER TABLE runs ADD COLUMN kind TEXT NOT NULL DEFAULT 'run'");
  db.exec(CAPACITY_SCHEMA);
}
