/**
 * The master side of a distributed run: deals user IDs round-robin over the live workers as compact plans with a
 * common start instant, acts on all workers or the selected ones with per-node results, keeps the run record in
 * the key-value bucket, and re-deals the unfinished users of a worker that died. The master runs no users.
 */
import { randomUUID } from "node:crypto";
import type { Controller } from "../controller/controller.js";
import { RemovalDriver, shapeView, type LoadShape } from "../shapes/stages.js";
import { AmocError, ClusterError, UsageError, errorMessage, type ErrorCode } from "../errors.js";
import type { Logger } from "../log.js";
import type { Telemetry } from "../telemetry.js";
import {
  SummaryCollector,
  checkEncodedSummary,
  type CounterSummary,
  type EncodedSummary,
  type TimingSummary,
} from "../results/summary.js";
import type { ClusterBus, KvStore } from "./bus.js";
import {
  IdBitmap,
  ProgressionBuilder,
  dealProgressions,
  highest,
  planIds,
  totalSize,
  type Progression,
} from "./id-sets.js";
import type { Member, Membership } from "./membership.js";
import { Problems, type Problem } from "./problems.js";
import { broadcast, refusalOf, type NodeResult } from "./broadcast.js";
import {
  checkEndedRecord,
  checkFinalRecord,
  checks,
  type Command,
  type EndedRecord,
  type FinalRecord,
} from "./protocol.js";
import { RunStore, type RunState } from "./run-state.js";
import { pruneOtherRuns } from "./run-keys.js";
import { commandScenario, type SourceStore } from "./scenario-ref.js";
import type { Subjects } from "./subjects.js";

/** How long before the common start instant the master sends the plans: every worker must have them in time. */
const LEAD_MS = 300;
/**
 * Status is a read: it must not wait the command timeout on a node that just died (across NATS routes a request
 * can still be forwarded to a dead node's server and wait out the whole timeout before interest is withdrawn).
 */
const STATUS_TIMEOUT_MS = 1500;

/** Which workers a command addresses: by name, or by labels (all must match). Default: every live worker. */
export interface NodeSelector {
  nodes?: string[];
  labels?: Record<string, string>;
}

/** Options of cluster-wide commands. */
export interface DistOptions extends NodeSelector {
  settings?: Record<string, unknown>;
  comment?: string;
  force?: boolean;
  /** Uploaded scenario version (content hash) the workers load. */
  version?: string;
}

export type { NodeResult } from "./broadcast.js";

/** The run's merged metrics: the same shape as a local run's summary (percentiles from merged histograms). */
export type MergedMetrics = Record<string, CounterSummary | TimingSummary>;

/** A problem of some node, as status and stop report it. */
export interface NodeProblem extends Problem {
  node: string;
}

/** Extra reply time a remove_ids command gets per user it names (ms). */
const REMOVE_MS_PER_USER = 0.1;
/** How often a failed read of a lost worker's ended IDs is tried before the re-deal is given up for now. */
const ENDED_READ_ATTEMPTS = 3;

/** Everything the master needs. */
export interface MasterDeps {
  bus: ClusterBus;
  kv: KvStore;
  subjects: Subjects;
  membership: Membership;
  /** This node's controller, used only to validate scenarios and settings before dealing. */
  controller: Controller;
  telemetry: Telemetry;
  log: Logger;
  nodeName: string;
  timeoutMs: number;
  /** Where a scenario given by path is stored by content for the workers (cluster/scenario-ref.ts). */
  sources?: SourceStore;
}

/** Drives distributed runs from this node. */
export class Master {
  private readonly store: RunStore;
  /** Every change of the run goes through this one queue: a re-deal never races a do/add/remove/stop. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly problems: Problems;
  /** Paces the ramp-downs of the run's load shape (stages), from the shape's start instant. */
  private removals: RemovalDriver | undefined;
  private shapeT0Ms = 0;

  constructor(private readonly d: MasterDeps) {
    this.store = new RunStore(d.kv, d.subjects.runKey());
    this.problems = new Problems(d.log);
    d.membership.onDown((name) => {
      this.d.telemetry.emit("run.event", { kind: "node_down", data: { node: name } });
      this.serially(() => this.redealLost(name)).catch((e: unknown) =>
        this.problems.note(
          `redeal_failed:${name}`,
          errorMessage(e),
          `${name}'s unfinished users are not re-dealt yet; the next add or remove tries again`,
        ),
      );
    });
    d.membership.onLeft((name, m) => {
      if (m.role !== "worker") return; // a console or master leaving is logged by membership, not announced
      this.d.telemetry.emit("run.event", { kind: "node_left", data: { node: name } });
      this.serially(() => this.markLeft(name)).catch((e: unknown) =>
        this.problems.note(
          `mark_left_failed:${name}`,
          errorMessage(e),
          `${name} may be listed as down although it left normally`,
        ),
      );
    });
    d.membership.onDuplicate((name, boot, other) =>
      this.problems.note(
        `duplicate_node_name:${name}`,
        `another process (boot ${other}) beats under the name of live node ${name} (boot ${boot})`,
        `it gets no commands while ${name} (boot ${boot}) lives; give each node its own name`,
      ),
    );
    d.membership.onUp((name, m) => {
      if (m.role === "worker")
        this.d.telemetry.emit("run.event", { kind: "node_up", data: { node: name, labels: m.labels } });
    });
  }

  /** The run this master last read or wrote in the bucket, and whether it was running (the results feed binds to it). */
  get lastRun(): { runId: string; running: boolean } | null {
    return this.store.lastSeen;
  }

  /** Runs `fn` after every change queued before it (errors reach the caller, not the queue). */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Live workers matching the selector, in the stable order IDs are dealt in (sorted by name). */
  workers(sel: NodeSelector = {}): Member[] {
    let ws = this.d.membership.live().filter((m) => m.role === "worker");
    if (sel.nodes) {
      const unknown = sel.nodes.filter((n) => !ws.some((w) => w.from === n));
      if (unknown.length)
        throw new UsageError(
          `no live worker named ${unknown.join(", ")}`,
          `live workers: ${ws.map((w) => w.from).join(", ") || "none"}`,
        );
      ws = ws.filter((w) => sel.nodes!.includes(w.from));
    }
    if (sel.labels) ws = ws.filter((w) => Object.entries(sel.labels!).every(([k, v]) => w.labels[k] === v));
    return ws;
  }

  /** Waits until at least `n` workers are live (bounded). */
  async waitForWorkers(n: number, timeoutMs: number): Promise<Member[]> {
    await this.d.membership.warmedUp();
    const end = Date.now() + timeoutMs;
    for (;;) {
      const ws = this.workers();
      if (ws.length >= n) return ws;
      if (Date.now() > end)
        throw new ClusterError(
          "CLUSTER_NO_WORKERS",
          `only ${ws.length} of ${n} workers joined within ${timeoutMs} ms (${ws.map((w) => w.from).join(", ") || "none"})`,
          "start workers with bin/amoc worker (same AMOC_NATS_URL and AMOC_CLUSTER_NAME)",
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Starts scenario `name` with users from..to dealt round-robin over the selected workers. */
  do(name: string, from: number, to: number, opts: DistOptions = {}): Promise<Record<string, unknown>> {
    return this.serially(() => this.doNow(name, from, to, opts));
  }

  private async doNow(
    name: string,
    from: number,
    to: number,
    opts: DistOptions = {},
  ): Promise<Record<string, unknown>> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || to < from)
      throw new UsageError(`bad user range ${from}..${to}`, "e.g. amoc_dist.do('dummy', 1, 3000)");
    const settings = opts.settings ?? {};
    const resolved = await this.d.controller.resolveRun(name, settings);
    const prev = await this.store.read();
    if (prev?.run.state === "running") {
      const owner = prev.run.master;
      await this.d.membership.settled();
      const alive = owner === this.d.nodeName || this.d.membership.isAlive(owner);
      throw new ClusterError(
        "CLUSTER_BUSY",
        `the cluster is already running '${prev.run.scenario}' (run ${prev.run.runId}, master ${owner}${alive ? "" : ", which is down"})`,
        "stop it first: amoc_dist.stop()",
      );
    }
    if (this.workers(opts).length === 0) await this.waitForWorkers(1, 3000);
    const workers = this.workers(opts);
    if (workers.length === 0)
      throw new ClusterError(
        "CLUSTER_NO_WORKERS",
        "no live worker matches",
        "start workers with bin/amoc worker, or check {nodes}/{labels}",
      );
    const ia = resolved.settings.interarrival;
    // a load shape (stages / arrival_rate) fixes how many users start and when: every plan carries its segments
    const shape = this.d.controller.shapeOf(resolved.settings);
    if (shape) to = from + Math.max(1, shape.users) - 1;
    // workers are told a name and a version, never a path
    const ref = await commandScenario(name, opts.version, resolved.scenario.file, this.d.sources);
    const run: RunState = {
      v: 1,
      runId: randomUUID().slice(0, 8),
      master: this.d.nodeName,
      state: "running",
      scenario: resolved.scenario.name,
      settings,
      from,
      lastId: to,
      interarrivalMs: ia,
      nextAtMs: 0,
      workers: {},
      removed: [],
      comment: opts.comment,
      version: ref.version,
      startedAt: new Date().toISOString(),
    };
    // claim the cluster first: of two masters starting at once, exactly one creates or updates the record
    let revision = await this.store.write(run, prev ? prev.revision : null);
    await pruneOtherRuns(this.d.kv, run.runId, this.d.log);
    const prepared = await this.broadcast(
      workers.map((w) => w.from),
      () => ({
        v: 1,
        type: "prepare",
        from: this.d.nodeName,
        runId: run.runId,
        scenario: ref.scenario,
        settings,
        version: run.version,
      }),
    );
    const ready = workers.filter((w) => prepared[w.from]?.ok);
    if (ready.length === 0) {
      run.state = "finished";
      await this.store.write(run, revision);
      throw new ClusterError(
        "CLUSTER_NODE_FAILED",
        `no worker could prepare the run: ${describeFailures(prepared)}`,
        "see status() and the workers' logs",
      );
    }
    const dealt = await this.deal(run, ready, [{ first: from, last: to, step: 1 }], shape);
    if (shape?.removals.length)
      this.removals = new RemovalDriver(
        this.shapeT0Ms,
        shape.removals,
        (n) => this.remove(n),
        (e) => this.d.log.warn({ msg: "stage_removal_failed", err: errorMessage(e) }),
      ).start();
    const nodes = mergeResults(prepared, dealt.results);
    if (dealt.undealt === to - from + 1) {
      run.state = "finished";
      await this.store.write(run, revision);
      throw new ClusterError(
        "CLUSTER_NODE_FAILED",
        `no worker accepted its share of the users: ${describeFailures(nodes)}`,
        "see status() and the workers' logs",
      );
    }
    revision = await this.store.write(run, revision);
    this.d.telemetry.emit("run.event", {
      kind: "do",
      data: {
        scenario: run.scenario,
        from,
        to,
        users: to - from + 1,
        workers: ready.length,
        undealt: dealt.undealt,
        comment: opts.comment,
        ...shapeView(resolved.settings),
      },
    });
    return {
      run_id: run.runId,
      scenario: run.scenario,
      from,
      to,
      users: to - from + 1,
      undealt: dealt.undealt,
      failed: failedNodes(nodes),
      nodes,
    };
  }

  /**
   * Deals progressions over the given workers from a common instant and records only the shares a worker
   * accepted; what a failed worker was sent is dealt again over the workers that accepted theirs (a worker that
   * failed is named with its error). Updates `run` (not yet written); `undealt` counts the IDs nobody took.
   */
  private async deal(
    run: RunState,
    workers: Member[],
    ps: Progression[],
    shape?: LoadShape,
  ): Promise<{ results: Record<string, NodeResult>; undealt: number }> {
    const results: Record<string, NodeResult> = {};
    let remaining = ps;
    let names = workers.map((w) => w.from);
    while (totalSize(remaining) > 0 && names.length > 0) {
      const t0 = Math.max(Date.now() + LEAD_MS, run.nextAtMs);
      const plans = dealProgressions(remaining, names.length, t0, run.interarrivalMs);
      if (shape && remaining === ps) {
        // the first round follows the shape; users re-dealt after a failed start go out at interarrival pace
        for (const p of plans.flat()) p.segments = shape.segments;
        this.shapeT0Ms = t0;
        run.nextAtMs = Math.max(run.nextAtMs, t0 + shape.durationMs);
      }
      const dealId = randomUUID().slice(0, 13);
      const start = (node: string): Command => ({
        v: 1,
        type: "start",
        from: this.d.nodeName,
        runId: run.runId,
        plans: plans[names.indexOf(node)]!,
        dealId: `${dealId}.${node}`,
      });
      const round = await this.broadcast(names, start);
      // a worker that did not answer (no error of its own) may have taken its share: ask it once more, with the same
      // deal ID, before dealing that share to the others (a worker answers a repeated deal without starting it twice)
      const unanswered = names.filter((n) => !round[n]!.ok && (round[n] as { code?: string }).code === undefined);
      if (unanswered.length) {
        const again = await this.broadcast(unanswered, start);
        for (const n of unanswered) if (again[n]!.ok) round[n] = again[n]!;
      }
      run.nextAtMs = Math.max(run.nextAtMs, t0 + totalSize(remaining) * run.interarrivalMs);
      const failed: Progression[] = [];
      names.forEach((n, j) => {
        const r = round[n]!;
        const mine = plans[j]!;
        if (!r.ok) {
          const ids = mine.map(planIds).filter((p): p is Progression => p !== undefined);
          failed.push(...ids);
          results[n] = {
            ok: false,
            error: `start failed: ${r.error}${ids.length ? `; its ${totalSize(ids)} users were dealt to the others` : ""}`,
          };
          return;
        }
        const prev = results[n];
        results[n] = prev?.ok
          ? {
              ok: true,
              result: {
                ...prev.result,
                scheduled: Number(prev.result.scheduled ?? 0) + Number(r.result.scheduled ?? 0),
              },
            }
          : r;
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
      this.d.log.error({ msg: "users_not_dealt", run: run.runId, users: undealt, failures: describeFailures(results) });
    return { results, undealt };
  }

  /** Adds `n` users after the highest ID issued, dealt over the selected workers (late joiners included). */
  add(n: number, opts: DistOptions = {}): Promise<Record<string, unknown>> {
    return this.serially(() => this.addNow(n, opts));
  }

  private async addNow(n: number, opts: DistOptions = {}): Promise<Record<string, unknown>> {
    if (!Number.isSafeInteger(n) || n < 1)
      throw new UsageError(`add needs a positive integer, got ${JSON.stringify(n)}`, "e.g. amoc_dist.add(300)");
    const { run, revision } = await this.ownRun();
    const { ready: workers, unready } = await this.readyWorkers(run, opts);
    const from = run.lastId + 1;
    const to = run.lastId + n;
    run.lastId = to;
    const dealt = await this.deal(run, workers, [{ first: from, last: to, step: 1 }]);
    const { undealt } = dealt;
    const results = { ...unready, ...dealt.results };
    await this.store.write(run, revision);
    this.d.telemetry.emit("run.event", {
      kind: "add",
      data: { scenario: run.scenario, from, to, users: n, undealt, comment: opts.comment },
    });
    return { from, to, users: n, undealt, failed: failedNodes(results), nodes: results };
  }

  /** Removes the `n` highest running IDs cluster-wide; each worker removes its share. */
  remove(n: number, opts: DistOptions = {}): Promise<Record<string, unknown>> {
    return this.serially(() => this.removeNow(n, opts));
  }

  private async removeNow(n: number, opts: DistOptions = {}): Promise<Record<string, unknown>> {
    if (!Number.isSafeInteger(n) || n < 1)
      throw new UsageError(
        `remove needs a positive integer, got ${JSON.stringify(n)}`,
        "e.g. amoc_dist.remove(30, {force: true})",
      );
    const { run, revision } = await this.ownRun();
    const names = this.inRun(run, opts);
    const force = opts.force === true;
    // every message carries ranges, never ID lists: its size does not grow with the number of users
    const tops = await this.broadcast(names, () => ({
      v: 1,
      type: "top_ids",
      from: this.d.nodeName,
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
        const bad =
          RANGES(r.result.ranges) ?? (r.result.escalate === undefined ? undefined : RANGES(r.result.escalate));
        if (bad) failedTops[node] = { ok: false, error: `malformed top_ids reply: ranges ${bad}` };
        else {
          sets[node] = r.result.ranges as Progression[];
          graceful[node] = (r.result.escalate as Progression[] | undefined) ?? [];
        }
      }
    }
    const { chosen, fresh } = chooseRemovals(sets, graceful, n, force);
    const targets = Object.keys(chosen).filter((node) => chosen[node]!.length > 0);
    // a worker answers once it has selected (and, forced, aborted) its users: that takes longer the more there are
    const most = Math.max(0, ...targets.map((node) => totalSize(chosen[node]!)));
    const results = await this.broadcast(
      targets,
      (node) => ({ v: 1, type: "remove_ids", from: this.d.nodeName, runId: run.runId, ranges: chosen[node]!, force }),
      this.d.timeoutMs + most * REMOVE_MS_PER_USER,
    );
    Object.assign(results, failedTops);
    // only what a node accepted to remove is never re-dealt
    // (escalated users were recorded by the graceful removal that selected them)
    const done = targets.filter((node) => results[node]?.ok).flatMap((node) => fresh[node] ?? []);
    run.removed = coalesce([...run.removed, ...done]);
    await this.store.write(run, revision);
    const removed = Object.values(results).reduce((s, r) => s + (r.ok ? Number(r.result.removed) : 0), 0);
    this.d.telemetry.emit("run.event", {
      kind: "remove",
      data: { scenario: run.scenario, requested: n, removed, force, comment: opts.comment },
    });
    const all = Object.values(chosen).flat();
    const ids = all.length ? [Math.min(...all.map((p) => p.first)), Math.max(...all.map((p) => p.last))] : [];
    return { requested: n, removed, force, ids, failed: failedNodes(results), nodes: results };
  }

  /** Changes updatable variables on every worker of the run. */
  updateSettings(settings: Record<string, unknown>, opts: DistOptions = {}): Promise<Record<string, unknown>> {
    return this.serially(() => this.updateSettingsNow(settings, opts));
  }

  private async updateSettingsNow(
    settings: Record<string, unknown>,
    opts: DistOptions = {},
  ): Promise<Record<string, unknown>> {
    const { run, revision } = await this.ownRun();
    const results = await this.broadcast(this.inRun(run, opts), () => ({
      v: 1,
      type: "update_settings",
      from: this.d.nodeName,
      runId: run.runId,
      settings,
    }));
    const failed = Object.values(results).filter((r): r is Extract<NodeResult, { ok: false }> => !r.ok);
    if (failed.length === Object.keys(results).length && failed.length > 0) {
      // every worker refused for the client's reason (read-only, undeclared, invalid): that error, not a node failure
      const code = failed[0]!.code;
      const first = refusalOf(failed[0]!);
      if (code && first && CLIENT_CODES.has(code) && failed.every((f) => f.code === code))
        throw new AmocError(code as ErrorCode, first.message, first.hint);
      throw new ClusterError(
        "CLUSTER_NODE_FAILED",
        `no worker accepted the settings: ${describeFailures(results)}`,
        "only updatable variables can change during a run",
      );
    }
    run.settings = { ...run.settings, ...settings };
    await this.store.write(run, revision);
    this.d.telemetry.emit("run.event", { kind: "settings", data: { scenario: run.scenario, ...settings } });
    return { nodes: results };
  }

  /** Stops the run on every worker (users forced down, `terminate` called) and marks it finished. */
  stop(opts: DistOptions = {}): Promise<Record<string, unknown>> {
    return this.serially(() => this.stopNow(opts));
  }

  private async stopNow(opts: DistOptions = {}): Promise<Record<string, unknown>> {
    const { run, revision } = await this.ownRun();
    this.removals?.stop();
    const names = [
      ...new Set([
        ...this.inRun(run, opts),
        ...this.workers()
          .filter((w) => w.runId === run.runId)
          .map((w) => w.from),
      ]),
    ];
    const results = await this.broadcast(
      names,
      () => ({ v: 1, type: "stop", from: this.d.nodeName, runId: run.runId }),
      this.d.timeoutMs + 5000,
    );
    // workers that left mid-run took their users down themselves: their final counts and metrics are in the bucket
    for (const [n, r] of Object.entries(await this.leftResults(run))) results[n] ??= r;
    run.state = "finished";
    await this.store.write(run, revision);
    const totals = sumUsers(results);
    const metrics = this.mergeMetrics(results, run.runId);
    this.d.telemetry.emit("run.event", {
      kind: "stop",
      data: { scenario: run.scenario, ...totals, comment: opts.comment },
    });
    return {
      run_id: run.runId,
      scenario: run.scenario,
      users: totals,
      metrics,
      problems: this.problemList(results),
      failed: failedNodes(results),
      nodes: results,
    };
  }

  /**
   * Merges the summaries the nodes sent for `runId` (their histograms, so percentiles are those of all values)
   * and takes them out of the node results; a malformed one is named in that node's result, not merged.
   */
  private mergeMetrics(results: Record<string, NodeResult>, runId: string | undefined): MergedMetrics {
    const parts: EncodedSummary[] = [];
    for (const [node, r] of Object.entries(results)) {
      if (!r.ok) continue;
      const { summary, summary_run: of, ...rest } = r.result;
      r.result = rest;
      if (summary === undefined || of !== runId) continue;
      const bad = checkEncodedSummary(summary);
      if (bad) {
        r.result.summary_error = `malformed summary: ${bad}`;
        this.problems.note(`summary_rejected:${node}`, bad, `${node}'s metrics are left out of the run's metrics`);
      } else parts.push(summary as EncodedSummary);
    }
    try {
      return SummaryCollector.merged(parts).snapshot();
    } catch (e) {
      this.problems.note("summary_merge_failed", errorMessage(e), "the run's metrics are incomplete");
      return {};
    }
  }

  /** This master's problems, its bus's, and those each node reported in `results`. */
  private problemList(results: Record<string, NodeResult>): NodeProblem[] {
    const out: NodeProblem[] = this.problems.list().map((p) => ({ node: this.d.nodeName, ...p }));
    for (const p of this.d.bus.problems())
      out.push({
        node: this.d.nodeName,
        kind: "nats_subscription_error",
        message: `${p.subject}: ${p.error}`,
        affects: "messages on this subject are lost",
        count: p.count,
      });
    for (const [node, r] of Object.entries(results)) {
      if (!r.ok || !Array.isArray(r.result.problems)) continue;
      for (const p of r.result.problems as Problem[]) if (PROBLEM(p) === undefined) out.push({ ...p, node });
    }
    return out;
  }

  /** The run and every node's status; nodes of the run that are down are listed as such. */
  async status(): Promise<Record<string, unknown>> {
    await this.d.membership.warmedUp();
    const cur = await this.store.read();
    const run = cur?.run;
    const live = this.workers().map((w) => w.from);
    // nodes of the run stay listed after they died, so a dead node is reported, never silently dropped
    const inRun = run?.state === "running" ? Object.keys(run.workers) : [];
    const names = [...new Set([...live, ...inRun])].sort();
    const results = await this.broadcast(
      names.filter((n) => this.d.membership.isAlive(n)),
      () => ({ v: 1, type: "status", from: this.d.nodeName }),
      Math.min(this.d.timeoutMs, STATUS_TIMEOUT_MS),
    );
    const left = run?.state === "running" ? await this.leftResults(run) : {};
    for (const n of names) {
      if (this.d.membership.isAlive(n)) continue;
      const share = run?.workers[n];
      // a worker that left stopped its own users: it is not a failure; its final counts and metrics still count
      if (share?.left) results[n] = left[n] ?? { ok: true, result: { state: "left", run_id: null } };
      else
        results[n] = {
          ok: false,
          error: `down (no heartbeat)${share?.lost ? "; its users were re-dealt to the others" : ""}`,
        };
    }
    const metrics = this.mergeMetrics(results, run?.runId);
    return {
      run: run
        ? {
            run_id: run.runId,
            state: run.state,
            scenario: run.scenario,
            ...(run.version ? { version: run.version } : {}),
            master: run.master,
            master_alive: run.master === this.d.nodeName || this.d.membership.isAlive(run.master),
            from: run.from,
            last_id: run.lastId,
            settings: run.settings,
            lost_nodes: Object.entries(run.workers)
              .filter(([, s]) => s.lost)
              .map(([n]) => n),
            left_nodes: Object.entries(run.workers)
              .filter(([, s]) => s.left)
              .map(([n]) => n),
          }
        : null,
      users: sumUsers(results),
      metrics,
      problems: this.problemList(results),
      nodes: results,
    };
  }

  /**
   * The results of the workers that left `run` mid-run, from the final records they left in the bucket (state
   * "left", their last user counts and summary); a missing or unreadable record gives the bare "left" result.
   */
  private async leftResults(run: RunState): Promise<Record<string, NodeResult>> {
    const out: Record<string, NodeResult> = {};
    await Promise.all(
      Object.entries(run.workers)
        .filter(([, s]) => s.left)
        .map(async ([n]) => {
          const bare: NodeResult = { ok: true, result: { state: "left", run_id: null } };
          out[n] = bare;
          let v: unknown;
          try {
            const e = await this.d.kv.get(this.d.subjects.finalKey(run.runId, n));
            if (!e) return;
            v = JSON.parse(e.value);
          } catch (e) {
            this.problems.note(
              `final_read_failed:${n}`,
              errorMessage(e),
              `${n} left mid-run: its users and metrics are left out of the totals`,
            );
            return;
          }
          const bad = checkFinalRecord(v);
          if (bad || (v as FinalRecord).runId !== run.runId) {
            this.problems.note(
              `final_rejected:${n}`,
              bad ?? "of another run",
              `${n} left mid-run: its users and metrics are left out of the totals`,
            );
            return;
          }
          const f = v as FinalRecord;
          out[n] = {
            ok: true,
            result: { state: "left", run_id: null, users: f.users, summary: f.summary, summary_run: f.runId },
          };
        }),
    );
    return out;
  }

  /** The live nodes with their roles, labels and states. */
  nodes(): Member[] {
    return this.d.membership.live();
  }

  /** The running run, taken over if its master is down; refused if another live master owns it. */
  private async ownRun(): Promise<{ run: RunState; revision: number }> {
    const cur = await this.store.read();
    if (!cur || cur.run.state !== "running")
      throw new ClusterError(
        "CLUSTER_NO_WORKERS",
        "no distributed run is in progress",
        "start one: amoc_dist.do('dummy', 1, 1000)",
      );
    const { run } = cur;
    if (run.master === this.d.nodeName) {
      // a re-deal that could not read what ended is retried here, before the run changes again
      const pending = Object.entries(run.workers).filter(
        ([n, s]) => !s.lost && !s.left && !this.d.membership.isAlive(n) && this.problems.has(`redeal_failed:${n}`),
      );
      if (pending.length === 0) return cur;
      for (const [n] of pending) await this.redealLost(n);
      return (await this.store.read()) ?? cur;
    }
    await this.d.membership.settled();
    if (this.d.membership.isAlive(run.master))
      throw new ClusterError(
        "CLUSTER_BUSY",
        `run ${run.runId} is mastered by ${run.master}, which is alive`,
        `use ${run.master}'s console, or stop that node to take over`,
      );
    // the master died: this node takes the run over and re-deals what the dead nodes held
    run.master = this.d.nodeName;
    const revision = await this.store.write(run, cur.revision);
    this.d.log.warn({ msg: "run_taken_over", run: run.runId });
    for (const [n, s] of Object.entries(run.workers))
      if (!s.lost && !this.d.membership.isAlive(n)) await this.redealLost(n);
    const again = await this.store.read();
    return again && again.run.runId === run.runId ? again : { run, revision };
  }

  /** Workers of the run able to take new users: live, selected, prepared (late joiners are prepared on the way). */
  private async readyWorkers(
    run: RunState,
    opts: NodeSelector,
  ): Promise<{ ready: Member[]; unready: Record<string, NodeResult> }> {
    const ws = this.workers(opts);
    const unprepared = ws.filter((w) => w.runId !== run.runId).map((w) => w.from);
    const prepared = unprepared.length
      ? await this.broadcast(unprepared, () => ({
          v: 1,
          type: "prepare",
          from: this.d.nodeName,
          runId: run.runId,
          scenario: run.scenario,
          settings: run.settings,
          version: run.version,
        }))
      : {};
    // the heartbeat may lag the prepare by a beat: ask again rather than trust it
    const st = await this.broadcast(
      ws.map((w) => w.from),
      () => ({ v: 1, type: "status", from: this.d.nodeName }),
    );
    const isReady = (w: Member) =>
      st[w.from]?.ok && (st[w.from] as { result: Record<string, unknown> }).result.run_id === run.runId;
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

  /** Names of the selected live workers holding a share of the run. */
  private inRun(run: RunState, sel: NodeSelector): string[] {
    const selected = new Set(this.workers(sel).map((w) => w.from));
    return Object.entries(run.workers)
      .filter(([n, s]) => !s.lost && !s.left && selected.has(n))
      .map(([n]) => n);
  }

  /** Marks a worker that left normally: it stopped its users itself, so nothing of its share is re-dealt. */
  private async markLeft(node: string): Promise<void> {
    const cur = await this.store.read();
    if (!cur || cur.run.state !== "running" || cur.run.master !== this.d.nodeName) return;
    const share = cur.run.workers[node];
    if (!share || share.lost || share.left) return;
    share.left = true;
    await this.store.write(cur.run, cur.revision);
  }

  /**
   * Re-deals the users a dead worker held and had not ended (nor were removed) over the live workers of the run.
   * When what ended cannot be read (or is malformed) nothing is guessed: the share stays, the problem is reported
   * in status, and the next add or remove tries again.
   */
  private async redealLost(node: string): Promise<void> {
    const cur = await this.store.read();
    if (!cur || cur.run.state !== "running" || cur.run.master !== this.d.nodeName) return;
    const { run } = cur;
    const share = run.workers[node];
    if (!share || share.lost || share.left) return;
    const t0 = Date.now();
    let gone: IdBitmap;
    try {
      gone = await this.readEnded(run.runId, node);
    } catch (e) {
      this.problems.note(
        `redeal_failed:${node}`,
        `cannot read the IDs that ended on ${node}: ${errorMessage(e)}`,
        `${node}'s unfinished users are not re-dealt yet (nothing is guessed); the next add or remove tries again`,
      );
      return;
    }
    this.problems.clear(`redeal_failed:${node}`);
    gone.addAll(run.removed);
    const lost: Progression[] = [];
    for (const p of share.plans) {
      const ids = planIds(p);
      if (!ids) continue;
      const b = new ProgressionBuilder();
      for (let id = ids.first; id <= ids.last; id += ids.step) if (!gone.has(id)) b.add(id);
      lost.push(...b.out);
    }
    share.lost = true;
    const survivors = this.workers().filter(
      (w) => w.from !== node && run.workers[w.from] && !run.workers[w.from]!.lost && !run.workers[w.from]!.left,
    );
    const count = totalSize(lost);
    if (count === 0 || survivors.length === 0) {
      await this.store.write(run, cur.revision);
      this.d.log.error({
        msg: survivors.length ? "node_lost_nothing_to_redeal" : "node_lost_no_survivors",
        node,
        users: count,
      });
      return;
    }
    const { results, undealt } = await this.deal(run, survivors, lost);
    await this.store.write(run, cur.revision);
    this.d.log.warn({
      msg: "node_lost_users_redealt",
      node,
      users: count - undealt,
      undealt,
      to: survivors.map((w) => w.from),
      ms: Date.now() - t0,
    });
    this.d.telemetry.emit("run.event", {
      kind: "node_down",
      data: {
        node,
        redealt: count - undealt,
        undealt,
        to: survivors.map((w) => w.from),
        failures: describeFailures(results) || undefined,
      },
    });
  }

  /** The IDs that ended on `node` (empty when it recorded none), validated; a failed read is retried, then throws. */
  private async readEnded(runId: string, node: string): Promise<IdBitmap> {
    let last: unknown;
    for (let attempt = 1; attempt <= ENDED_READ_ATTEMPTS; attempt++) {
      let entry;
      try {
        entry = await this.d.kv.get(this.d.subjects.endedKey(runId, node));
      } catch (e) {
        last = e;
        await new Promise((r) => setTimeout(r, 100 * attempt));
        continue;
      }
      if (!entry) return new IdBitmap();
      let v: unknown;
      try {
        v = JSON.parse(entry.value);
      } catch {
        throw new ClusterError(
          "CLUSTER_PROTOCOL",
          "the ended-IDs record is not JSON",
          "a node of another amoc version may share this cluster_name",
        );
      }
      const bad = checkEndedRecord(v);
      if (bad)
        throw new ClusterError(
          "CLUSTER_PROTOCOL",
          `the ended-IDs record is malformed: ${bad}`,
          "a node of another amoc version may share this cluster_name",
        );
      try {
        return IdBitmap.decode(v as EndedRecord);
      } catch (e) {
        throw new ClusterError(
          "CLUSTER_PROTOCOL",
          `the ended-IDs record does not decode: ${errorMessage(e)}`,
          "a node of another amoc version may share this cluster_name",
        );
      }
    }
    throw new ClusterError(
      "CLUSTER_UNAVAILABLE",
      `the bucket did not answer ${ENDED_READ_ATTEMPTS} reads: ${errorMessage(last)}`,
      "check the NATS cluster (JetStream) health",
      { cause: last },
    );
  }

  /** Sends one command to each node in parallel (cluster/broadcast.ts); every node gets an entry, answered or not. */
  private broadcast(
    nodes: string[],
    make: (node: string) => Command,
    timeoutMs = this.d.timeoutMs,
  ): Promise<Record<string, NodeResult>> {
    return broadcast(this.d, nodes, make, timeoutMs);
  }
}

const RANGES = checks.arrayOf(checks.progression, 100_000);
/** Codes a worker refuses settings with when the client asked for something wrong (passed through when all agree). */
const CLIENT_CODES = new Set<string>(["VARIABLE_READ_ONLY", "VARIABLE_UNDECLARED", "VARIABLE_INVALID", "USAGE"]);
const PROBLEM = checks.shape({
  kind: checks.str,
  message: (v) => (typeof v === "string" ? undefined : "must be a string"),
  affects: (v) => (typeof v === "string" ? undefined : "must be a string"),
  count: checks.int,
});

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
export function chooseRemovals(
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

/** The names of the nodes whose result is a failure. */
function failedNodes(results: Record<string, NodeResult>): string[] {
  return Object.entries(results)
    .filter(([, r]) => !r.ok)
    .map(([n]) => n)
    .sort();
}

function describeFailures(results: Record<string, NodeResult>): string {
  return Object.entries(results)
    .filter(([, r]) => !r.ok)
    .map(([n, r]) => `${n}: ${(r as { error: string }).error}`)
    .join("; ");
}

function mergeResults(a: Record<string, NodeResult>, b: Record<string, NodeResult>): Record<string, NodeResult> {
  const out: Record<string, NodeResult> = { ...a };
  for (const [n, r] of Object.entries(b))
    out[n] = r.ok && out[n]?.ok ? { ok: true, result: { ...(out[n] as { result: object }).result, ...r.result } } : r;
  return out;
}

/** Sums the user counts of the nodes that answered. */
export function sumUsers(results: Record<string, NodeResult>): Record<string, number> {
  const t = { running: 0, started: 0, finished: 0, crashed: 0, removed: 0, pending: 0, removing: 0 };
  for (const r of Object.values(results)) {
    const u = r.ok ? (r.result.users as Record<string, number> | undefined) : undefined;
    if (u) for (const k of Object.keys(t) as Array<keyof typeof t>) t[k] += u[k] ?? 0;
  }
  return t;
}
