/**
 * The run as the master keeps it in the JetStream key-value bucket (cluster/run-state.ts): who owns it (a master
 * that died is taken over), which workers hold a share, which left, and the final counts a worker that left
 * mid-run wrote there.
 */
import { ClusterError, errorMessage } from "../../errors.js";
import { checkFinalRecord, type FinalRecord } from "../protocol.js";
import type { RunState } from "../run-state.js";
import type { LeftStatus, LostNode, MasterCtx, NodeResult, NodeSelector } from "./types.js";

/**
 * The running run, taken over if its master is down (re-dealing what the dead nodes held with `redeal`); refused if
 * another live master owns it.
 */
export async function ownRun(
  ctx: MasterCtx,
  redeal: (node: string) => Promise<void>,
): Promise<{ run: RunState; revision: number }> {
  const { d, store } = ctx;
  const cur = await store.read();
  if (!cur || cur.run.state !== "running")
    throw new ClusterError(
      "CLUSTER_NO_WORKERS",
      "no distributed run is in progress",
      "start one: amoc_dist.do('dummy', 1, 1000)",
    );
  const { run } = cur;
  if (run.master === d.nodeName) {
    // a re-deal that could not read what ended is retried here, before the run changes again
    const pending = Object.entries(run.workers).filter(
      ([n, s]) => !s.lost && !s.left && !d.membership.isAlive(n) && ctx.problems.has(`redeal_failed:${n}`),
    );
    if (pending.length === 0) return cur;
    for (const [n] of pending) await redeal(n);
    return (await store.read()) ?? cur;
  }
  await d.membership.settled();
  if (d.membership.isAlive(run.master))
    throw new ClusterError(
      "CLUSTER_BUSY",
      `run ${run.runId} is mastered by ${run.master}, which is alive`,
      `use ${run.master}'s console, or stop that node to take over`,
    );
  // the master died: this node takes the run over and re-deals what the dead nodes held
  run.master = d.nodeName;
  const revision = await store.write(run, cur.revision);
  d.log.warn({ msg: "run_taken_over", run: run.runId });
  for (const [n, s] of Object.entries(run.workers)) if (!s.lost && !d.membership.isAlive(n)) await redeal(n);
  const again = await store.read();
  return again && again.run.runId === run.runId ? again : { run, revision };
}

/** Names of the selected live workers holding a share of the run. */
export function inRun(ctx: MasterCtx, run: RunState, sel: NodeSelector): string[] {
  const selected = new Set(ctx.workers(sel).map((w) => w.from));
  return Object.entries(run.workers)
    .filter(([n, s]) => !s.lost && !s.left && selected.has(n))
    .map(([n]) => n);
}

/** Marks a worker that left normally: it stopped its users itself, so nothing of its share is re-dealt. */
export async function markLeft(ctx: MasterCtx, node: string): Promise<void> {
  const cur = await ctx.store.read();
  if (!cur || cur.run.state !== "running" || cur.run.master !== ctx.d.nodeName) return;
  const share = cur.run.workers[node];
  if (!share || share.lost || share.left) return;
  share.left = true;
  await ctx.store.write(cur.run, cur.revision);
}

/**
 * The entries of the workers that left `run` mid-run, from the final records they left in the bucket (state
 * "left" and their last user counts); one whose record is missing or unreadable left abnormally: it is lost, with
 * what its intervals last reported (`lastOf`).
 */
export async function leftResults(
  ctx: MasterCtx,
  run: RunState,
  lastOf: (node: string) => LostNode["last"],
): Promise<Record<string, NodeResult<LeftStatus> | LostNode>> {
  const out: Record<string, NodeResult<LeftStatus> | LostNode> = {};
  const lost = (n: string, why: string): LostNode => ({
    ok: false,
    error: `left mid-run without its final counts (${why})`,
    lost: true,
    last: lastOf(n),
    redealt_to: {},
  });
  await Promise.all(
    Object.entries(run.workers)
      .filter(([, s]) => s.left)
      .map(async ([n]) => {
        let v: unknown;
        try {
          const e = await ctx.d.kv.get(ctx.d.subjects.finalKey(run.runId, n));
          if (!e) {
            out[n] = lost(n, "none in the bucket");
            return;
          }
          v = JSON.parse(e.value);
        } catch (e) {
          ctx.problems.note(
            `final_read_failed:${n}`,
            errorMessage(e),
            `${n} left mid-run: its users are left out of the totals`,
          );
          out[n] = lost(n, "unreadable");
          return;
        }
        const bad = checkFinalRecord(v);
        if (bad || (v as FinalRecord).runId !== run.runId) {
          ctx.problems.note(
            `final_rejected:${n}`,
            bad ?? "of another run",
            `${n} left mid-run: its users are left out of the totals`,
          );
          out[n] = lost(n, "malformed");
          return;
        }
        out[n] = { ok: true, result: { state: "left", run_id: null, users: (v as FinalRecord).users } };
      }),
  );
  return out;
}
