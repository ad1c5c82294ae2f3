/**
 * The one place a benchmark writes a figure: one JSON line per figure, appended to `.run/bench/results.jsonl`
 * (or `AMOC_BENCH_RESULTS`). docs/benchmarks.md is generated from the latest line of each figure, so a figure that
 * is not written here cannot appear there.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { cpus, hostname, totalmem } from "node:os";
import { dirname, resolve } from "node:path";

const ROOT = resolve(new URL("../..", import.meta.url).pathname);

/** One measured figure. `command` is what a reader runs to measure it again. */
export interface BenchFigure {
  /** Stable id of the figure, e.g. `idle-users.rss_per_user`: the generator keys its rows on it. */
  figure: string;
  value: number | string | boolean;
  unit: string;
  command: string;
  /** What was measured and how, and whose limit the figure shows. */
  what?: string;
  /** Any other facts of the run (counts, validity reasons, ratios). */
  detail?: Record<string, unknown>;
}

/** The line as written: the figure plus where and when it was measured. */
export interface BenchRecord extends BenchFigure {
  commit: string;
  date: string;
  loadBefore: number[];
  loadAfter: number[];
  machine: { host: string; cores: number; cpu: string; memGiB: number; node: string };
}

export function resultsPath(): string {
  return process.env.AMOC_BENCH_RESULTS ?? `${ROOT}/.run/bench/results.jsonl`;
}

export function loadAverage(): number[] {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
}

function commit(): string {
  try {
    const sha = execFileSync("git", ["-C", ROOT, "rev-parse", "--short=12", "HEAD"], { encoding: "utf8" }).trim();
    // the page the benchmarks regenerate (docs/benchmarks.md) is their output, not a change to what they measure
    const dirty = execFileSync(
      "git",
      ["-C", ROOT, "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)docs/benchmarks.md"],
      { encoding: "utf8" },
    ).trim();
    return dirty ? `${sha}+dirty` : sha;
  } catch {
    return "unknown";
  }
}

/** Appends the figures of one benchmark run; `loadBefore` is the load average read before the run started. */
export function recordFigures(figures: BenchFigure[], loadBefore: number[]): BenchRecord[] {
  const base = {
    commit: commit(),
    date: new Date().toISOString(),
    loadBefore,
    loadAfter: loadAverage(),
    machine: {
      host: hostname(),
      cores: cpus().length,
      cpu: cpus()[0]?.model ?? "unknown",
      memGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
    },
  };
  const records = figures.map((f) => ({ ...f, ...base }));
  const path = resultsPath();
  mkdirSync(dirname(path), { recursive: true });
  appendFileSync(path, records.map((r) => JSON.stringify(r) + "\n").join(""));
  return records;
}
