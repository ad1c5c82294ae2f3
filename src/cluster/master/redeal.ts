/**
 * Re-dealing a lost worker's users: the users a dead worker held and had not ended (nor were removed) go to the
 * live workers of the run. When what ended cannot be read (or is malformed) nothing is guessed: the share stays,
 * the problem is reported in status, and the next add or remove tries again. The lost share keeps what the worker
 * had last reported and where its users went, for status and stop.
 */
import { ClusterError, errorMessage } from "../../errors.js";
import { IdBitmap, totalSize, unfinishedIds } from "../id-sets.js";
import { checkEndedRecord, type EndedRecord } from "../protocol.js";
import { deal } from "./dealing.js";
import { describeFailures } from "./broadcast.js";
import type { LastCounts, MasterCtx } from "./types.js";

/** How often a failed read of a lost worker's ended IDs is tried before the re-deal is given up for now. */
const ENDED_READ_ATTEMPTS = 3;

/** Re-deals `node`'s unfinished users (it is down); `last`: what it last reported. */
export async function redealLost(ctx: MasterCtx, node: string, last: LastCounts | null): Promise<void> {
  const { d, store } = ctx;
  const cur = await store.read();
  if (!cur || cur.run.state !== "running" || cur.run.master !== d.nodeName) return;
  const { run } = cur;
  const share = run.workers[node];
  if (!share || share.lost || share.left) return;
  const t0 = ctx.clock.now();
  let gone: IdBitmap;
  try {
    gone = await readEnded(ctx, run.runId, node);
  } catch (e) {
    ctx.problems.note(
      `redeal_failed:${node}`,
      `cannot read the IDs that ended on ${node}: ${errorMessage(e)}`,
      `${node}'s unfinished users are not re-dealt yet (nothing is guessed); the next add or remove tries again`,
    );
    return;
  }
  ctx.problems.clear(`redeal_failed:${node}`);
  gone.addAll(run.removed);
  const lost = unfinishedIds(share.plans, gone);
  share.lost = true;
  share.last = last;
  share.redealtTo = {};
  const survivors = ctx
    .workers()
    .filter((w) => w.from !== node && run.workers[w.from] && !run.workers[w.from]!.lost && !run.workers[w.from]!.left);
  const count = totalSize(lost);
  if (count === 0 || survivors.length === 0) {
    await store.write(run, cur.revision);
    d.log.error({
      msg: survivors.length ? "node_lost_nothing_to_redeal" : "node_lost_no_survivors",
      node,
      users: count,
    });
    return;
  }
  const { results, taken, undealt } = await deal(ctx, run, survivors, lost);
  share.redealtTo = taken;
  await store.write(run, cur.revision);
  const to = survivors.map((w) => w.from);
  d.log.warn({ msg: "node_lost_users_redealt", node, users: count - undealt, undealt, to, ms: ctx.clock.now() - t0 });
  d.telemetry.emit("run.event", {
    kind: "node_down",
    data: { node, redealt: count - undealt, undealt, to, failures: describeFailures(results) || undefined },
  });
}

/** The IDs that ended on `node` (empty when it recorded none), validated; a failed read is retried, then throws. */
async function readEnded(ctx: MasterCtx, runId: string, node: string): Promise<IdBitmap> {
  let last: unknown;
  for (let attempt = 1; attempt <= ENDED_READ_ATTEMPTS; attempt++) {
    let entry;
    try {
      entry = await ctx.d.kv.get(ctx.d.subjects.endedKey(runId, node));
    } catch (e) {
      last = e;
      await new Promise((r) => ctx.clock.setTimeout(() => r(undefined), 100 * attempt));
      continue;
    }
    if (!entry) return new IdBitmap();
    let v: unknown;
    try {
      v = JSON.parse(entry.value);
    } catch {
      throw protocolError("the ended-IDs record is not JSON");
    }
    const bad = checkEndedRecord(v);
    if (bad) throw protocolError(`the ended-IDs record is malformed: ${bad}`);
    try {
      return IdBitmap.decode(v as EndedRecord);
    } catch (e) {
      throw protocolError(`the ended-IDs record does not decode: ${errorMessage(e)}`);
    }
  }
  throw new ClusterError(
    "CLUSTER_UNAVAILABLE",
    `the bucket did not answer ${ENDED_READ_ATTEMPTS} reads: ${errorMessage(last)}`,
    "check the NATS cluster (JetStream) health",
    { cause: last },
  );
}

function protocolError(message: string): ClusterError {
  return new ClusterError("CLUSTER_PROTOCOL", message, "a node of another amoc version may share this cluster_name");
}
