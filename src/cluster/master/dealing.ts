/**
 * Dealing users: the master splits ID progressions round-robin over workers as compact plans with a common start
 * instant (the pure assignment is cluster/id-sets.ts), records the shares the workers accepted in the run, and deals
 * what a failed worker was sent again over those that accepted theirs.
 */
import { randomUUID } from "node:crypto";
import type { LoadShape } from "../../shapes/stages.js";
import { ClusterError } from "../../errors.js";
import { dealProgressions, planIds, totalSize, type Progression } from "../id-sets.js";
import type { Member } from "../membership.js";
import type { CommandOf, ReplyOf } from "../protocol.js";
import type { RunState } from "../run-state.js";
import { describeFailures } from "./broadcast.js";
import type { MasterCtx, NodeResult, NodeSelector } from "./types.js";

/** How long before the common start instant the master sends the plans: every worker must have them in time. */
const LEAD_MS = 300;

/** What a deal did: each worker's answer, how many users each one took, and how many nobody took. */
export interface Dealt {
  results: Record<string, NodeResult<ReplyOf["start"]>>;
  /** Users each worker accepted in this deal. */
  taken: Record<string, number>;
  undealt: number;
  /** The start instant of the first round (a load shape's t0). */
  t0Ms: number;
}

/**
 * Deals progressions over the given workers from a common instant and records only the shares a worker accepted;
 * what a failed worker was sent is dealt again over the workers that accepted theirs (a worker that failed is named
 * with its error). Updates `run` (not yet written).
 */
export async function deal(
  ctx: MasterCtx,
  run: RunState,
  workers: Member[],
  ps: Progression[],
  shape?: LoadShape,
): Promise<Dealt> {
  const results: Dealt["results"] = {};
  const taken: Record<string, number> = {};
  let remaining = ps;
  let names = workers.map((w) => w.from);
  let firstT0 = 0;
  while (totalSize(remaining) > 0 && names.length > 0) {
    const t0 = Math.max(ctx.clock.now() + LEAD_MS, run.nextAtMs);
    if (remaining === ps) firstT0 = t0;
    const plans = dealProgressions(remaining, names.length, t0, run.interarrivalMs);
    if (shape && remaining === ps) {
      // the first round follows the shape; users re-dealt after a failed start go out at interarrival pace
      for (const p of plans.flat()) p.segments = shape.segments;
      run.nextAtMs = Math.max(run.nextAtMs, t0 + shape.durationMs);
    }
    const dealId = randomUUID().slice(0, 13);
    const start = (node: string): CommandOf<"start"> => ({
      v: 1,
      type: "start",
      from: ctx.d.nodeName,
      runId: run.runId,
      plans: plans[names.indexOf(node)]!,
      dealId: `${dealId}.${node}`,
    });
    const round = await ctx.send(names, start);
    // a worker that did not answer (no error of its own) may have taken its share: ask it once more, with the same
    // deal ID, before dealing that share to the others (a worker answers a repeated deal without starting it twice)
    const unanswered = names.filter((n) => {
      const r = round[n]!;
      return !r.ok && r.code === undefined;
    });
    if (unanswered.length) {
      const again = await ctx.send(unanswered, start);
      for (const n of unanswered) if (again[n]!.ok) round[n] = again[n]!;
    }
    run.nextAtMs = Math.max(run.nextAtMs, t0 + totalSize(remaining) * run.interarrivalMs);
    const failed: Progression[] = [];
    names.forEach((n, j) => {
      const r = round[n]!;
      const mine = plans[j]!;
      const ids = mine.map(planIds).filter((p): p is Progression => p !== undefined);
      if (!r.ok) {
        failed.push(...ids);
        results[n] = {
          ok: false,
          error: `start failed: ${r.error}${ids.length ? `; its ${totalSize(ids)} users were dealt to the others` : ""}`,
        };
        return;
      }
      const prev = results[n];
      results[n] = prev?.ok ? { ok: true, result: { scheduled: prev.result.scheduled + r.result.scheduled } } : r;
      taken[n] = (taken[n] ?? 0) + totalSize(ids);
      const share = run.workers[n];
      // a node back after being lost (or left) starts a fresh share: its old users were re-dealt or stopped
      if (!share || share.lost || share.left) run.workers[n] = { plans: [...mine] };
      else share.plans.push(...mine);
    });
    names = names.filter((n) => round[n]!.ok);
    remaining = failed.sort((a, b) => a.first - b.first);
  }
  const undealt = totalSize(remaining);
  if (undealt > 0)
    ctx.d.log.error({ msg: "users_not_dealt", run: run.runId, users: undealt, failures: describeFailures(results) });
  return { results, taken, undealt, t0Ms: firstT0 };
}

/** The prepare command of `run` (a worker loads its scenario by name and version, never by path). */
export function prepareCmd(
  ctx: MasterCtx,
  run: Pick<RunState, "runId" | "scenario" | "settings" | "version">,
  scenario = run.scenario,
): CommandOf<"prepare"> {
  return {
    v: 1,
    type: "prepare",
    from: ctx.d.nodeName,
    runId: run.runId,
    scenario,
    settings: run.settings,
    version: run.version,
  };
}

/** Workers of the run able to take new users: live, selected, prepared (late joiners are prepared on the way). */
export async function readyWorkers(
  ctx: MasterCtx,
  run: RunState,
  opts: NodeSelector,
): Promise<{ ready: Member[]; unready: Record<string, NodeResult> }> {
  const ws = ctx.workers(opts);
  const unprepared = ws.filter((w) => w.runId !== run.runId).map((w) => w.from);
  const prepared = unprepared.length ? await ctx.send(unprepared, () => prepareCmd(ctx, run)) : {};
  // the heartbeat may lag the prepare by a beat: ask again rather than trust it
  const st = await ctx.send(
    ws.map((w) => w.from),
    () => ({ v: 1, type: "status", from: ctx.d.nodeName }),
  );
  const isReady = (w: Member) => {
    const s = st[w.from];
    return s?.ok === true && s.result.run_id === run.runId;
  };
  const ready = ws.filter(isReady);
  // a live worker that cannot take users is named with its error, never silently left out
  const unready: Record<string, NodeResult> = {};
  for (const w of ws.filter((x) => !isReady(x))) {
    const p = prepared[w.from];
    const s = st[w.from];
    unready[w.from] = {
      ok: false,
      error: p && !p.ok ? `prepare failed: ${p.error}` : s && !s.ok ? s.error : `not in run ${run.runId}`,
    };
  }
  if (ready.length === 0)
    throw new ClusterError(
      "CLUSTER_NO_WORKERS",
      `no live worker is ready for run ${run.runId}: ${describeFailures(unready) || "none is live"}`,
      "start workers with bin/amoc worker",
    );
  return { ready, unready };
}
