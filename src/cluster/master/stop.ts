/**
 * Stopping the run: every worker of the run stops its users and publishes its final results interval before it
 * replies; the stop resolves only once the results feed has delivered each answering worker's final interval (or
 * a short bound passed), so whoever records the run has all of it. A worker that did not answer, died, or left
 * abnormally is listed lost with what it had done and where its users went.
 */
import type { RunState } from "../run-state.js";
import { failedNodes } from "./broadcast.js";
import { inRun, leftResults } from "./run-record.js";
import type { WorkerCounts } from "./worker-counts.js";
import { lostEntry, problemList, sumUsers } from "./status.js";
import type { DistOptions, MasterCtx, StopResult } from "./types.js";

/** Extra time workers get to stop their users and terminate the scenario before they reply. */
const STOP_EXTRA_MS = 5000;
/** How long a worker's final interval may trail its stop reply (it was published first, on the same connection). */
const FINAL_WAIT_MS = 2000;

/** Stops `run` on its workers and collects every worker's entry; the caller marks the run finished. */
export async function stopWorkers(
  ctx: MasterCtx,
  run: RunState,
  opts: DistOptions,
  counts: WorkerCounts | undefined,
): Promise<Omit<StopResult, "run_id" | "scenario">> {
  const { d } = ctx;
  const names = [
    ...new Set([
      ...inRun(ctx, run, opts),
      ...ctx
        .workers()
        .filter((w) => w.runId === run.runId)
        .map((w) => w.from),
    ]),
  ];
  const replies = await ctx.send(
    names,
    () => ({ v: 1, type: "stop", from: d.nodeName, runId: run.runId }),
    d.timeoutMs + STOP_EXTRA_MS,
  );
  await finalIntervals(
    ctx,
    run.runId,
    names.filter((n) => {
      const r = replies[n];
      return r?.ok === true && r.result.final_interval;
    }),
  );
  const lastOf = (n: string) => counts?.lastCounts(n) ?? null;
  const nodes: StopResult["nodes"] = {};
  for (const [n, r] of Object.entries(replies)) {
    // no answer of its own (a timeout, or not live any more): it died during the stop
    nodes[n] =
      r.ok || r.code !== undefined ? r : lostEntry(`did not answer the stop: ${r.error}`, run.workers[n], lastOf(n));
  }
  // workers that left mid-run took their users down themselves: their final counts are in the bucket
  for (const [n, r] of Object.entries(await leftResults(ctx, run, lastOf))) nodes[n] ??= r;
  // workers lost earlier in the run (re-dealt, or down and not re-dealt yet) are listed, never dropped
  for (const [n, share] of Object.entries(run.workers))
    if (!nodes[n] && (share.lost || !d.membership.isAlive(n)))
      nodes[n] = lostEntry("down (no heartbeat)", share, lastOf(n));
  return {
    users: sumUsers(nodes),
    problems: problemList(ctx, nodes),
    failed: failedNodes(nodes),
    nodes,
  };
}

/** Waits until the results feed has delivered the final interval of each of `nodes` (bounded); notes who is late. */
async function finalIntervals(ctx: MasterCtx, runId: string, nodes: string[]): Promise<void> {
  const feed = ctx.d.results;
  if (!feed) return;
  const wait = Math.min(ctx.d.timeoutMs, FINAL_WAIT_MS);
  await Promise.all(
    nodes.map(async (n) => {
      if (!(await feed.whenFinal(runId, n, wait)))
        ctx.problems.note(
          `final_interval_missing:${n}`,
          `${n}'s final results interval of run ${runId} did not arrive within ${wait} ms of its stop reply`,
          "the run's recording lacks the last interval of this node",
        );
    }),
  );
}
