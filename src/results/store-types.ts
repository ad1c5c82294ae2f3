/** What the run store holds and hands out: a run's record, its start and end, its verdict, its id; no SQLite here. */
import { randomBytes } from "node:crypto";
import { AmocError } from "../errors.js";
import type { EncodedTotals } from "./merge.js";

/** The file name of the store in a data directory. */
export const RUN_STORE_FILE = "runs.sqlite";

/** A run's outcome: passed, failed (users crashed or a problem), breached (a threshold), or incomplete (never ended). */
export type Verdict = "passed" | "failed" | "breached" | "interrupted" | "incomplete" | "running";

/** What a run is when it starts. */
export interface NewRun {
  scenario: string;
  sourceHash?: string;
  settings: Record<string, unknown>;
  nodes: string[];
  users: number;
  intervalMs: number;
  startedAt: number;
  /** Given by a cluster master; generated otherwise. */
  id?: string;
}

/** What a stored run is: a plain run, or a capacity search's run (its steps and capacity beside it). */
export type RunKind = "run" | "capacity";

/** A stored run. */
export interface RunRecord extends Required<Omit<NewRun, "id" | "sourceHash">> {
  id: string;
  kind: RunKind;
  sourceHash: string | null;
  endedAt: number | null;
  summary: Record<string, unknown> | null;
  verdict: Verdict;
  exitCode: number | null;
}

/** How a run ended. */
export interface RunEnd {
  endedAt: number;
  summary: Record<string, unknown>;
  verdict: Verdict;
  exitCode: number;
  nodes?: string[];
  /** The run's effective settings, when known only at the end (the nodes' parsed view). */
  settings?: Record<string, unknown>;
  /** The merged totals of the whole run. */
  totals?: EncodedTotals;
}

/** A run that is not in the store, or an ambiguous prefix. */
export class RunNotFoundError extends AmocError {
  constructor(message: string) {
    super(
      "USAGE",
      message,
      "`bin/amoc runs` lists the stored runs; give a whole id, a unique prefix, 'last' or 'last~N'",
    );
  }
}

/** A run id: start time (UTC, sortable) and 4 random hex digits, e.g. `20261129-151646-a3f0`. */
export function newRunId(startedAt: number): string {
  const d = new Date(startedAt).toISOString();
  return `${d.slice(0, 10).replace(/-/g, "")}-${d.slice(11, 19).replace(/:/g, "")}-${randomBytes(2).toString("hex")}`;
}
