/**
 * What a run lost to a failing run store (disk full, busy, read-only, ...): the recorder counts each write that
 * failed instead of letting the error escape into the aggregator's timer, where it would kill the run. The count and
 * the first error are reported at the end of the run; the log gets a rate-limited warning meanwhile.
 */
import { errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import { RateLimitedLog } from "../metrics/rate-limited-log.js";

/** What failed to be written, by kind, and the first error (with SQLite's code, e.g. SQLITE_READONLY). */
export interface StoreLoss {
  intervals: number;
  merged: number;
  events: number;
  /** The run's end (verdict, totals, thresholds) or the report read back from the store. */
  end: number;
  firstError: string;
}

export type StoreWrite = Exclude<keyof StoreLoss, "firstError">;

/** `CODE: message` for a better-sqlite3 SqliteError, the message otherwise. */
function describeError(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  const msg = errorMessage(e);
  return typeof code === "string" && !msg.startsWith(code) ? `${code}: ${msg}` : msg;
}

/** Counts failed writes of one run; see the file comment. */
export class StoreLossCounter {
  private readonly loss: StoreLoss = { intervals: 0, merged: 0, events: 0, end: 0, firstError: "" };
  private readonly warn: RateLimitedLog | undefined;

  constructor(
    log: Logger | undefined,
    private readonly runId: string,
    now?: () => number,
  ) {
    this.warn = log ? new RateLimitedLog(log, "run_store_write_failed", 10_000, now ? { now } : undefined) : undefined;
  }

  /** Runs one store write; a failure is counted (and logged, rate-limited), never thrown. true when it succeeded. */
  write(kind: StoreWrite, fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (e) {
      this.failed(kind, e);
      return false;
    }
  }

  /** Counts (and logs, rate-limited) one write of `kind` that failed with `e`. */
  failed(kind: StoreWrite, e: unknown): void {
    this.loss[kind]++;
    if (!this.loss.firstError) this.loss.firstError = describeError(e);
    this.warn?.warn(describeError(e), {
      run: this.runId,
      write: kind,
      affects: "the run goes on; this part of its results is not stored",
    });
  }

  /** The loss so far, or undefined when nothing was lost. */
  get(): StoreLoss | undefined {
    const l = this.loss;
    return l.intervals + l.merged + l.events + l.end > 0 ? { ...l } : undefined;
  }
}

/** One line for the end-of-run output: `run store: 3 intervals not written (SQLITE_READONLY: ...)`. */
export function describeStoreLoss(l: StoreLoss): string {
  const parts = (
    [
      [l.intervals, "interval", "intervals"],
      [l.merged, "merged interval", "merged intervals"],
      [l.events, "event", "events"],
      [l.end, "end-of-run write", "end-of-run writes"],
    ] as const
  ).flatMap(([n, one, many]) => (n > 0 ? [`${n} ${n === 1 ? one : many}`] : []));
  return `run store: ${parts.join(", ")} not written (${l.firstError})`;
}
