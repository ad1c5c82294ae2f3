/**
 * The per-run keys of the bucket (`ended.<run>.<node>`, `final.<run>.<node>`) are needed only while their run is
 * the cluster's run: a master starting a new run removes those of every other run, so the bucket does not grow
 * by a record per node and run for ever. (A TTL on the bucket would not do: it would expire a long run's record.)
 */
import { errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import type { KvStore } from "./bus.js";

/** Removes the ended/final keys of runs other than `keepRunId`; returns how many it removed. Never throws. */
export async function pruneOtherRuns(kv: KvStore, keepRunId: string, log: Logger): Promise<number> {
  let removed = 0;
  try {
    for (const prefix of ["ended", "final"]) {
      for (const key of await kv.keys(`${prefix}.>`)) {
        if (key.split(".")[1] === keepRunId) continue;
        await kv.delete(key);
        removed++;
      }
    }
  } catch (e) {
    // only housekeeping: the new run does not depend on it
    log.warn({
      msg: "run_keys_prune_failed",
      err: errorMessage(e),
      affects: "records of earlier runs stay in the bucket until the next run starts",
    });
  }
  return removed;
}
