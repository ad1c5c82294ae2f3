/** The shapes of a run's recording (results/recorder.ts): what to record, what it gives back, how it ends. */
import type { Logger } from "../log.js";
import type { Telemetry } from "../telemetry.js";
import type { EncodedInterval, RunEventRecord } from "./interval.js";
import type { MetricStats } from "./merge.js";
import type { RunStore } from "./store.js";
import type { Verdict } from "./store-types.js";
import type { StoreLoss } from "./store-loss.js";
import type { SutSample } from "./sut-series.js";
import { THRESHOLD_BREACH_EXIT, type Threshold, type ThresholdResult } from "./thresholds.js";

/** What to record and where. */
export interface RecordOptions {
  /** This node's telemetry (none: a master that only merges other nodes' intervals). */
  telemetry?: Telemetry;
  /** false: take only run events from `telemetry`, no intervals of this node (a cluster master: its workers send them). */
  localIntervals?: boolean;
  node: string;
  /** The SQLite file (`<data dir>/runs.sqlite`). */
  storePath: string;
  intervalMs: number;
  scenario: string;
  sourceHash?: string;
  settings: Record<string, unknown>;
  users: number;
  nodes?: string[];
  thresholds?: Threshold[];
  /** Evaluate thresholds after every interval and call `onAbort` at the first breach. */
  abortOnFail?: boolean;
  onAbort?: (breached: ThresholdResult[]) => void;
  reportPath?: string;
  junitPath?: string;
  /** Every node's interval and every run event as they arrive (a watcher of the run; its errors are ignored). */
  onInterval?: (i: EncodedInterval) => void;
  onEvent?: (e: RunEventRecord) => void;
  /** Where a failing store write is warned about (rate-limited); without it failures are only counted. */
  log?: Logger;
  /** Clock and manual ticking (tests). */
  now?: () => number;
  manualTicks?: boolean;
  /** Opens the store (tests: to reach its connection and make it fail mid-run). */
  openStore?: (path: string) => RunStore;
}

/** What the end of a recorded run produced. */
export interface RecordedEnd {
  runId: string;
  verdict: Verdict;
  exitCode: number;
  thresholds: ThresholdResult[];
  reportPath?: string;
  junitPath?: string;
  /** What failed to be written to the store (the run went on without it); absent when nothing was lost. */
  storeLoss?: StoreLoss;
}

/** The last interval, as the progress line and status show it. */
export interface LastInterval {
  t: number;
  ms: number;
  /** Counters per second. */
  rates: Record<string, number>;
  /** p99 of each timing, ms. */
  p99: Record<string, number>;
}

/** A run being recorded. */
export interface RunRecording {
  runId: string;
  /** Another node's interval (distributed mode: what a worker sends its master once per interval). */
  addInterval(i: EncodedInterval): void;
  addEvent(e: RunEventRecord): void;
  /** The nodes whose part of each interval to wait for before merging it (a cluster master's live workers). */
  setNodes(nodes: string[]): void;
  /** This node's last finished interval (undefined before the first). */
  lastInterval(): LastInterval | undefined;
  /**
   * Flushes, evaluates thresholds, stores the end, writes the report and JUnit file. `exitCode`: the runner's;
   * `summary` is built from the run's merged totals (the one table every view reads).
   */
  end(o: {
    summary: Record<string, unknown> | ((totals: Record<string, MetricStats>) => Record<string, unknown>);
    /** The runner's exit code, or how to tell it from the summary (its crashed users). */
    exitCode: number | ((summary: Record<string, unknown>) => number);
    nodes?: string[];
  }): RecordedEnd;
  /** One sampling of the server under test (src/sut/): stored, and judged by `sut.*` thresholds; ignored once ended. */
  addSut(s: SutSample): void;
  /** The aggregator's tick (with `manualTicks`). */
  tick(): void;
  /** The run failed before it could end (it threw): stored as `failed` with the error, so it is not left `incomplete`. */
  fail(message: string, exitCode: number): void;
  /** The run never took place (its start was refused): removed from the store. */
  discard(): void;
  /** What failed to be written to the store so far (undefined: nothing). */
  storeLoss(): StoreLoss | undefined;
}

/** The signal behind an exit code of 128 + its number, in words. */
export function signalText(exitCode: number): string {
  return exitCode === 130 ? "SIGINT (Ctrl+C)" : exitCode === 143 ? "SIGTERM" : `signal ${exitCode - 128}`;
}

/** The verdict and exit code of a run from the runner's exit code and the thresholds. */
export function verdictOf(
  exitCode: number,
  results: readonly ThresholdResult[],
): { verdict: Verdict; exitCode: number } {
  const breached = results.some((r) => !r.ok);
  // a breach outranks crashed users (1); usage errors (2) and signals (128+) keep their own code
  if (breached) return { verdict: "breached", exitCode: exitCode <= 1 ? THRESHOLD_BREACH_EXIT : exitCode };
  // stopped by a signal (128 + its number: Ctrl+C 130, SIGTERM 143): the run did not fail, it was cut short
  if (exitCode > 128) return { verdict: "interrupted", exitCode };
  return { verdict: exitCode === 0 ? "passed" : "failed", exitCode };
}
