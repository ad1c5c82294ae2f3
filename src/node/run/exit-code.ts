/** A run's exit code, one rule for every front end (`bin/amoc run`, the console, REST, the dashboard). */

/** A run stopped by a signal exits 128 + its number. */
export const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

/** What decides a run's exit code before its thresholds are judged. */
export interface ExitFacts {
  /** The signal that stopped it, if one did. */
  signal?: string;
  /** Something went wrong outside the users: a node failed, no user started, every node was lost. */
  problems: boolean;
  crashed: number;
  /** `--allow-crashes`: crashed users do not fail the run. */
  allowCrashes: boolean;
  /** Stopped at a live threshold breach (abort on fail): it fails, and the breach makes it 3. */
  aborted: boolean;
}

/** 130/143 for a signal, 1 for problems or crashed users (unless allowed), else 0; an abort on a breach is 1. */
export function runExitCode(f: ExitFacts): number {
  // an abort is a failure the verdict turns into 3 (a breach outranks 1; signals keep theirs)
  if (f.aborted) return 1;
  if (f.signal) return SIGNAL_EXIT[f.signal] ?? 130;
  if (f.problems) return 1;
  return f.crashed > 0 && !f.allowCrashes ? 1 : 0;
}
