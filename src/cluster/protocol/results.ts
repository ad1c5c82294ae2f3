/**
 * What workers send besides replies: their results intervals (published once per `results_interval` on the run's
 * results subject, the last one marked `final`), and the records they leave in the bucket (IDs that ended, and the
 * final counts of a worker that left mid-run).
 */
import { checkEncodedInterval, type EncodedInterval } from "../../results/interval.js";
import type { UserCounts } from "../../users/user-pool.js";
import type { EncodedIds } from "../id-sets.js";
import { checks, isObj, type Check } from "./checks.js";

/** One interval of a worker's measurements of a run. */
export interface ResultsMsg {
  v: 1;
  type: "results";
  from: string;
  runId: string;
  /** The worker's last interval of the run (flushed when it stopped or left): nothing follows it. */
  final?: boolean;
  interval: EncodedInterval;
}

/**
 * The wire form of a results message, built around the interval's own JSON (`intervalJson`, encoded once by the
 * aggregator) instead of serializing it again.
 */
export function encodeResults(from: string, runId: string, intervalJson: string, final: boolean): string {
  const head = { v: 1, type: "results", from, runId, ...(final ? { final: true } : {}) };
  return `${JSON.stringify(head).slice(0, -1)},"interval":${intervalJson}}`;
}

const { str, bool, optional, shape } = checks;

/** The fields of a results message besides the envelope (its interval is the sender's own). */
export const RESULTS_SCHEMA: Record<string, Check> = {
  runId: str,
  final: optional(bool),
  interval: checkEncodedInterval,
};

/** Ended IDs a worker stores in the key-value bucket (an IdBitmap's encoding). */
export type EndedRecord = EncodedIds;

/** What a worker that leaves mid-run leaves in the bucket: its final user counts of the run. */
export interface FinalRecord {
  v: 1;
  runId: string;
  users: UserCounts;
}

/** Why a final record read from the bucket is not one (undefined: it is). */
export const checkFinalRecord: Check = shape({
  runId: str,
  users: (v) =>
    isObj(v) && Object.values(v).every((x) => typeof x === "number" && Number.isSafeInteger(x) && x >= 0)
      ? undefined
      : "must map counts to integers",
});

/** Why an ended-IDs record read from the bucket is not one (undefined: it is). */
export const checkEndedRecord: Check = shape({
  base: checks.int,
  count: checks.int,
  bits: (v) => (typeof v === "string" && v.length <= 24_000_000 ? undefined : "must be a string"),
});
