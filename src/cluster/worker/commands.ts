/**
 * What a worker does for each command, and the reply it gives: one case per command type (the lint rule
 * switch-exhaustiveness-check fails a switch that misses one), each reply checked against `ReplyOf` by `answer`.
 */
import type { Controller } from "../../controller/controller.js";
import { AmocError } from "../../errors.js";
import { expand, toProgressions, totalSize, type Progression } from "../id-sets.js";
import type { Command, CommandOf, CommandType, ReplyOf, WorkerStatus } from "../protocol.js";

/** The most IDs one remove_ids command may name (a malformed range must not make a worker expand billions). */
const MAX_REMOVE_IDS = 10_000_000;
/** IDs removed per event-loop turn. */
const REMOVE_BATCH = 2000;

/** The worker as its commands see it (cluster/worker/agent.ts). */
export interface CommandTarget {
  readonly controller: Controller;
  readonly nodeName: string;
  readonly currentRunId: string | null;
  /** The deals (start commands) of the current run this node took, by deal ID, with its answer. */
  readonly deals: Map<string, ReplyOf["start"]>;
  prepare(runId: string, scenario: string, settings: Record<string, unknown>, version?: string): Promise<void>;
  /** Stops this node's part of run `runId`; true when its final results interval was published. */
  stopRun(runId: string): Promise<boolean>;
  status(): WorkerStatus;
}

/** The reply to `cmd`, typed by its command type. */
function answer<K extends CommandType>(_cmd: CommandOf<K>, reply: ReplyOf[K]): ReplyOf[K] {
  return reply;
}

/** Serves one command (already screened: of this cluster, version and process). */
export async function serveCommand(w: CommandTarget, cmd: Command): Promise<ReplyOf[CommandType]> {
  const c = w.controller;
  switch (cmd.type) {
    case "prepare":
      if (w.currentRunId !== cmd.runId) await w.prepare(cmd.runId, cmd.scenario, cmd.settings, cmd.version);
      return answer(cmd, { run_id: cmd.runId, state: c.state });
    case "start": {
      requireRun(w, cmd.runId);
      // a master that did not hear the answer asks again with the same deal: answer it, start nothing twice
      const before = cmd.dealId === undefined ? undefined : w.deals.get(cmd.dealId);
      if (before) return answer(cmd, { ...before, repeated: true });
      const result = { scheduled: c.startPlans(cmd.plans) };
      if (cmd.dealId !== undefined) w.deals.set(cmd.dealId, result);
      return answer(cmd, result);
    }
    case "top_ids": {
      requireRun(w, cmd.runId);
      // compact: a round-robin share is one progression per plan, however many IDs it holds. `ranges` are users
      // not being removed; `escalate` (forced only) those being removed gracefully, which the master picks only
      // when the cluster runs short of the former (a fresh user is never pushed out by a higher graceful one)
      const fresh = c.removableIds(cmd.n, false);
      const escalate = cmd.force && fresh.length < cmd.n ? c.removableIds(cmd.n, true).slice(fresh.length) : [];
      return answer(cmd, { count: fresh.length, ranges: toProgressions(fresh), escalate: toProgressions(escalate) });
    }
    case "remove_ids": {
      requireRun(w, cmd.runId);
      const n = totalSize(cmd.ranges);
      if (n > MAX_REMOVE_IDS)
        throw new AmocError(
          "CLUSTER_PROTOCOL",
          `remove_ids names ${n} IDs, more than the ${MAX_REMOVE_IDS} one command may`,
          "remove in several steps",
        );
      return answer(cmd, { removed: await removeInBatches(c, cmd.ranges, cmd.force) });
    }
    case "update_settings":
      requireRun(w, cmd.runId);
      return answer(cmd, { changed: c.updateSettings(cmd.settings) });
    case "stop": {
      // the final interval goes out before this reply: the master's stop waits for it
      const final = w.currentRunId === cmd.runId ? await w.stopRun(cmd.runId) : false;
      return answer(cmd, { ...w.status(), final_interval: final });
    }
    case "status":
      return answer(cmd, w.status());
  }
}

function requireRun(w: CommandTarget, runId: string): void {
  if (w.currentRunId !== runId)
    throw new AmocError(
      "STATE_INVALID",
      `${w.nodeName} is not in run ${runId} (it is in ${w.currentRunId ?? "none"})`,
      "prepare the node for the run first",
    );
}

/**
 * Removes the IDs of `ranges` a batch at a time, yielding to the event loop in between: a removal of 100,000
 * users must not starve this node's heartbeats (a node silent for 3 beats is judged dead and re-dealt).
 */
async function removeInBatches(c: Controller, ranges: Progression[], force: boolean): Promise<number> {
  let removed = 0;
  let batch: number[] = [];
  for (const id of expand(ranges)) {
    batch.push(id);
    if (batch.length < REMOVE_BATCH) continue;
    removed += c.removeIds(batch, force);
    batch = [];
    await new Promise((r) => setImmediate(r));
    if (c.state !== "running") return removed;
  }
  return removed + (batch.length ? c.removeIds(batch, force) : 0);
}
