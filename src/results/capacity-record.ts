/**
 * A capacity search as the run store keeps it (a run of kind `capacity`): its steps (users, window, each SLO's value,
 * verdict, generator health) and its outcome (the capacity, what broke, whether the generator limited it). The SQL is
 * written against the narrow `Sql` below, so this file never imports better-sqlite3 (results/store.ts owns it).
 */
import type { ThresholdResult } from "./thresholds.js";

/** What the search steps over: concurrent users, or the arrival rate (users started per second). */
export type CapacityBy = "users" | "rate";

/** The generator's own health over a step (node/capacity/health.ts judges it). */
export interface GeneratorHealth {
  /** The worst event-loop lag p99 seen (ms; null: not sampled). */
  lagP99MaxMs: number | null;
  /** The highest CPU of a generator process seen (% of one core; null: not sampled). */
  cpuMaxPct: number | null;
  /** Users crashed for fd/port exhaustion, by reason. */
  exhaustion: Record<string, number>;
  /** Each worker's own worst figures (`--dist`), by node name. */
  workers?: Record<string, { lagP99MaxMs: number | null; openFdsMax: number | null; limited: string | null }>;
  /** Why this step measured the generator (null: healthy). */
  limited: string | null;
}

/** One judged step of a search. */
export interface CapacityStep {
  /** The step's level: users online (`by: users`) or users started per second (`by: rate`). */
  users: number;
  /** The step's window, epoch ms. */
  from: number;
  to: number;
  slos: ThresholdResult[];
  ok: boolean;
  health: GeneratorHealth;
  /** The server under test's largest `sut.*` values over the step's window, where the run samples it. */
  server?: Record<string, number>;
}

/** What broke first: the first failing SLO of the first failing step, and by how much. */
export interface CapacityBroke {
  slo: string;
  actual: number | null;
  limit: number;
  message: string;
}

/** A search's outcome as stored. */
export interface CapacityRecord {
  by: CapacityBy;
  /** The largest passing step (0: the first step failed). */
  capacity: number;
  broke: CapacityBroke | null;
  generatorLimited: string | null;
  steps: CapacityStep[];
}

/** The part of a SQLite connection this file uses (better-sqlite3's Database fits it). */
export interface Sql {
  exec(sql: string): unknown;
  prepare(sql: string): {
    run(...params: unknown[]): unknown;
    all(...params: unknown[]): unknown[];
    get(...params: unknown[]): unknown;
  };
}

export const CAPACITY_SCHEMA = `
CREATE TABLE IF NOT EXISTS capacity (
  run_id TEXT PRIMARY KEY, by_what TEXT NOT NULL, capacity INTEGER NOT NULL, broke TEXT, generator_limited TEXT);
CREATE TABLE IF NOT EXISTS capacity_steps (
  run_id TEXT NOT NULL, idx INTEGER NOT NULL, users INTEGER NOT NULL, from_t INTEGER NOT NULL, to_t INTEGER NOT NULL,
  ok INTEGER NOT NULL, slos TEXT NOT NULL, health TEXT NOT NULL, PRIMARY KEY (run_id, idx));
`;

/** Stores (or replaces) a search's outcome and steps, and marks its run as kind `capacity`. */
export function writeCapacity(db: Sql, runId: string, c: CapacityRecord): void {
  db.prepare("UPDATE runs SET kind = 'capacity' WHERE id = ?").run(runId);
  // the run was opened with its first step's users; a search by users reached its largest step
  const most = Math.max(0, ...c.steps.map((s) => s.users));
  if (c.by === "users" && most > 0) db.prepare("UPDATE runs SET users = MAX(users, ?) WHERE id = ?").run(most, runId);
  db.prepare(
    "INSERT OR REPLACE INTO capacity (run_id, by_what, capacity, broke, generator_limited) VALUES (?, ?, ?, ?, ?)",
  ).run(runId, c.by, c.capacity, c.broke ? JSON.stringify(c.broke) : null, c.generatorLimited);
  db.prepare("DELETE FROM capacity_steps WHERE run_id = ?").run(runId);
  const ins = db.prepare(
    "INSERT INTO capacity_steps (run_id, idx, users, from_t, to_t, ok, slos, health) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
  );
  c.steps.forEach((s, i) =>
    ins.run(runId, i, s.users, s.from, s.to, s.ok ? 1 : 0, JSON.stringify(s.slos), JSON.stringify(s.health)),
  );
}

/** A run's stored search (undefined: not a capacity run, or a store from before capacity runs). */
export function readCapacity(db: Sql, runId: string): CapacityRecord | undefined {
  const hasTable = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'capacity'").get();
  if (!hasTable) return undefined;
  const c = db
    .prepare("SELECT by_what, capacity, broke, generator_limited FROM capacity WHERE run_id = ?")
    .get(runId) as
    { by_what: string; capacity: number; broke: string | null; generator_limited: string | null } | undefined;
  if (!c) return undefined;
  const rows = db
    .prepare("SELECT users, from_t, to_t, ok, slos, health FROM capacity_steps WHERE run_id = ? ORDER BY idx")
    .all(runId) as Array<{ users: number; from_t: number; to_t: number; ok: number; slos: string; health: string }>;
  return {
    by: c.by_what === "rate" ? "rate" : "users",
    capacity: c.capacity,
    broke: c.broke ? (JSON.parse(c.broke) as CapacityBroke) : null,
    generatorLimited: c.generator_limited,
    steps: rows.map((r) => ({
      users: r.users,
      from: r.from_t,
      to: r.to_t,
      ok: r.ok === 1,
      slos: JSON.parse(r.slos) as ThresholdResult[],
      health: JSON.parse(r.health) as GeneratorHealth,
    })),
  };
}

/** A worker's CPU (% of one core) over the interval, in its published intervals (cluster/worker-health.ts). */
export const CPU_PCT_GAUGE = "process.cpu_pct";
/** A worker's open-file limit (its soft RLIMIT_NOFILE), beside `process.open_fds` in its published intervals. */
export const FD_LIMIT_GAUGE = "process.fd_limit";
