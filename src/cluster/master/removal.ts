/**
 * Removing users cluster-wide: the `n` highest running IDs, each worker removing its share. Every message carries
 * ranges, never ID lists, so its size does not grow with the number of users; what a worker accepted to remove is
 * recorded in the run and never re-dealt.
 */
import { highest, totalSize, type Progression } from "../id-sets.js";
import type { RunState } from "../run-state.js";
import { failedNodes } from "./broadcast.js";
import type { MasterCtx, NodeResult, RemoveResult } from "./types.js";

/** Extra reply time a remove_ids command gets per user it names (ms). */
const REMOVE_MS_PER_USER = 0.1;

/** Removes the `n` highest users of `run` on the workers `names`; updates `run.removed` (not yet written). */
export async function removeUsers(
  ctx: MasterCtx,
  run: RunState,
  names: string[],
  n: number,
  force: boolean,
): Promise<RemoveResult> {
  const tops = await ctx.send(names, () => ({
    v: 1,
    type: "top_ids",
    from: ctx.d.nodeName,
    runId: run.runId,
    n,
    force,
  }));
  const sets: Record<string, Progression[]> = {};
  const graceful: Record<string, Progression[]> = {};
  const failedTops: Record<string, NodeResult> = {};
  for (const [node, r] of Object.entries(tops)) {
    if (!r.ok) failedTops[node] = r;
    else {
      sets[node] = r.result.ranges;
      graceful[node] = r.result.escalate;
    }
  }
  const { chosen, fresh } = chooseRemovals(sets, graceful, n, force);
  const targets = Object.keys(chosen).filter((node) => chosen[node]!.length > 0);
  // a worker answers once it has selected (and, forced, aborted) its users: that takes longer the more there are
  const most = Math.max(0, ...targets.map((node) => totalSize(chosen[node]!)));
  const removedBy = await ctx.send(
    targets,
    (node) => ({ v: 1, type: "remove_ids", from: ctx.d.nodeName, runId: run.runId, ranges: chosen[node]!, force }),
    ctx.d.timeoutMs + most * REMOVE_MS_PER_USER,
  );
  const results: Record<string, NodeResult> = { ...removedBy, ...failedTops };
  // only what a node accepted to remove is never re-dealt
  // (escalated users were recorded by the graceful removal that selected them)
  const done = targets.filter((node) => removedBy[node]?.ok).flatMap((node) => fresh[node] ?? []);
  run.removed = coalesce([...run.removed, ...done]);
  const removed = Object.values(removedBy).reduce((s, r) => s + (r.ok ? r.result.removed : 0), 0);
  const all = Object.values(chosen).flat();
  const ids = all.length ? [Math.min(...all.map((p) => p.first)), Math.max(...all.map((p) => p.last))] : [];
  return { requested: n, removed, force, ids, failed: failedNodes(results), nodes: results };
}

/** Sorted progressions with neighbours of one step joined (what a run records as removed stays a few ranges). */
function coalesce(ps: Progression[]): Progression[] {
  const out: Progression[] = [];
  for (const p of [...ps].sort((a, b) => a.first - b.first)) {
    const last = out[out.length - 1];
    if (last && last.step === p.step && p.first === last.last + last.step) last.last = p.last;
    else out.push({ ...p });
  }
  return out;
}

/**
 * The `n` highest users not being removed cluster-wide; a forced removal short of them then escalates the highest
 * users being removed gracefully. So as many users as possible are newly selected: a graceful user's higher ID on
 * one worker never pushes out a fresh user on another.
 */
function chooseRemovals(
  fresh: Record<string, Progression[]>,
  graceful: Record<string, Progression[]>,
  n: number,
  force: boolean,
): { chosen: Record<string, Progression[]>; fresh: Record<string, Progression[]> } {
  const picked = highest(fresh, n);
  const chosen = { ...picked };
  const short = n - totalSize(Object.values(picked).flat());
  if (!force || short <= 0) return { chosen, fresh: picked };
  const more = highest(graceful, short);
  for (const [node, ps] of Object.entries(more)) if (ps.length) chosen[node] = [...(chosen[node] ?? []), ...ps];
  return { chosen, fresh: picked };
}
