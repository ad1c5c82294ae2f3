/**
 * What a worker leaves in the bucket for a master: the IDs that ended here (so a master re-deals only the
 * unfinished users of a lost worker), and, when it leaves mid-run, its final user counts of the run.
 */
import { errorMessage } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { UserCounts } from "../../users/user-pool.js";
import type { KvStore } from "../bus.js";
import { EndedSet } from "../id-sets.js";
import type { Problems } from "../problems.js";
import type { FinalRecord } from "../protocol.js";
import type { Subjects } from "../subjects.js";

/** The IDs that ended on this node in its current run, written to the bucket when they changed. */
export class EndedIds {
  private ended = new EndedSet();

  constructor(private readonly d: { kv: KvStore; subjects: Subjects; nodeName: string; problems: Problems }) {}

  add(id: number): void {
    this.ended.add(id);
  }

  /** Forgets them (a new run). */
  reset(): void {
    this.ended = new EndedSet();
  }

  /** Writes them for run `runId` if they changed; a failed write is retried on the next flush. */
  async flush(runId: string | null): Promise<void> {
    if (!runId || !this.ended.changed) return;
    this.ended.changed = false;
    try {
      await this.d.kv.put(this.d.subjects.endedKey(runId, this.d.nodeName), JSON.stringify(this.ended.toJSON()));
    } catch (e) {
      this.ended.changed = true;
      this.d.problems.note(
        "ended_flush_failed",
        errorMessage(e),
        "if this node dies now, a master may re-deal users that already ended here",
      );
    }
  }
}

/** Leaves this node's final counts of run `runId` in the bucket (it leaves mid-run); a failure is logged. */
export async function recordFinal(
  d: { kv: KvStore; subjects: Subjects; nodeName: string; log: Logger },
  runId: string,
  users: UserCounts,
): Promise<void> {
  const rec: FinalRecord = { v: 1, runId, users: { ...users } };
  try {
    await d.kv.put(d.subjects.finalKey(runId, d.nodeName), JSON.stringify(rec));
  } catch (e) {
    d.log.warn({
      msg: "final_record_failed",
      run: runId,
      err: errorMessage(e),
      affects: "the run's totals leave out this node's users",
    });
  }
}
