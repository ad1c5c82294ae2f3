/**
 * Starting a run: the master checks the scenario and settings on its own controller, claims the cluster in the
 * bucket (of two masters starting at once exactly one wins), prepares the selected workers and deals the users
 * over those that prepared. A run nobody could take is marked finished at once, never left running.
 */
import { randomUUID } from "node:crypto";
import { ClusterError, UsageError } from "../../errors.js";
import { shapeView, type LoadShape } from "../../shapes/stages.js";
import type { Member } from "../membership.js";
import { RateLimitedLog } from "../../metrics/rate-limited-log.js";
import { pruneOtherRuns } from "../run-keys.js";
import type { RunState } from "../run-state.js";
import { commandScenario } from "../scenario-ref.js";
import { pruneUploads } from "../upload-keys.js";
import { describeFailures, failedNodes } from "./broadcast.js";
import { deal, prepareCmd } from "./dealing.js";
import type { DistOptions, DoResult, MasterCtx, NodeResult } from "./types.js";

/** What starting asks of the Master. */
export interface StartHooks {
  waitForWorkers(): Promise<Member[]>;
  /** The cluster is claimed for the new run. */
  claimed(): void;
  /** The load shape ramps users down at these instants (the Master paces them). */
  removals(t0Ms: number, removals: LoadShape["removals"]): void;
}

/** Starts scenario `name` with users from..to dealt round-robin over the selected workers. */
export async function startRun(
  ctx: MasterCtx,
  name: string,
  from: number,
  to: number,
  opts: DistOptions,
  hooks: StartHooks,
): Promise<DoResult> {
  const { d } = ctx;
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || to < from)
    throw new UsageError(`bad user range ${from}..${to}`, "e.g. amoc_dist.do('dummy', 1, 3000)");
  const settings = opts.settings ?? {};
  const resolved = await d.controller.resolveRun(name, settings);
  const prev = await ctx.store.read();
  if (prev?.run.state === "running") {
    const owner = prev.run.master;
    await d.membership.settled();
    const alive = owner === d.nodeName || d.membership.isAlive(owner);
    throw new ClusterError(
      "CLUSTER_BUSY",
      `the cluster is already running '${prev.run.scenario}' (run ${prev.run.runId}, master ${owner}${alive ? "" : ", which is down"})`,
      "stop it first: amoc_dist.stop()",
    );
  }
  if (ctx.workers(opts).length === 0) await hooks.waitForWorkers();
  const workers = ctx.workers(opts);
  if (workers.length === 0)
    throw new ClusterError(
      "CLUSTER_NO_WORKERS",
      "no live worker matches",
      "start workers with bin/amoc worker, or check {nodes}/{labels}",
    );
  // a load shape (stages / arrival_rate) fixes how many users start and when: every plan carries its segments
  const shape = d.controller.shapeOf(resolved.settings);
  if (shape) to = from + Math.max(1, shape.users) - 1;
  // workers are told a name and a version, never a path
  const ref = await commandScenario(name, opts.version, resolved.scenario.file, d.sources);
  const run: RunState = {
    v: 1,
    runId: randomUUID().slice(0, 8),
    master: d.nodeName,
    state: "running",
    scenario: resolved.scenario.name,
    settings,
    from,
    lastId: to,
    interarrivalMs: resolved.settings.interarrival,
    nextAtMs: 0,
    workers: {},
    removed: [],
    comment: opts.comment,
    version: ref.version,
    startedAt: new Date(ctx.clock.now()).toISOString(),
  };
  // claim the cluster first: of two masters starting at once, exactly one creates or updates the record
  let revision = await ctx.store.write(run, prev ? prev.revision : null);
  await pruneOtherRuns(d.kv, run.runId, d.log);
  // uploaded versions neither newest of a name nor this run's: no node can be loading them any more
  const badIndex = new RateLimitedLog(d.log, "uploads_index_entry_skipped", 60_000, ctx.clock);
  await pruneUploads(d.kv, badIndex, d.log, { running: run.version });
  hooks.claimed();
  const prepared: Record<string, NodeResult> = await ctx.send(
    workers.map((w) => w.from),
    () => prepareCmd(ctx, run, ref.scenario),
  );
  const ready = workers.filter((w) => prepared[w.from]?.ok);
  const fail = async (what: string, nodes: Record<string, NodeResult>) => {
    run.state = "finished";
    await ctx.store.write(run, revision);
    return new ClusterError(
      "CLUSTER_NODE_FAILED",
      `${what}: ${describeFailures(nodes)}`,
      "see status() and the workers' logs",
    );
  };
  if (ready.length === 0) throw await fail("no worker could prepare the run", prepared);
  const dealt = await deal(ctx, run, ready, [{ first: from, last: to, step: 1 }], shape);
  if (shape?.removals.length) hooks.removals(dealt.t0Ms, shape.removals);
  const nodes = mergeResults(prepared, dealt.results);
  if (dealt.undealt === to - from + 1) throw await fail("no worker accepted its share of the users", nodes);
  revision = await ctx.store.write(run, revision);
  const users = to - from + 1;
  d.telemetry.emit("run.event", {
    kind: "do",
    data: {
      scenario: run.scenario,
      from,
      to,
      users,
      workers: ready.length,
      undealt: dealt.undealt,
      comment: opts.comment,
      ...shapeView(resolved.settings),
    },
  });
  const failed = failedNodes(nodes);
  return { run_id: run.runId, scenario: run.scenario, from, to, users, undealt: dealt.undealt, failed, nodes };
}

function mergeResults(a: Record<string, NodeResult>, b: Record<string, NodeResult>): Record<string, NodeResult> {
  const out: Record<string, NodeResult> = { ...a };
  for (const [n, r] of Object.entries(b)) {
    const prev = out[n];
    out[n] = r.ok && prev?.ok ? { ok: true, result: { ...prev.result, ...r.result } } : r;
  }
  return out;
}
