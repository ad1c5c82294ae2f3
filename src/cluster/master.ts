/**
 * The master side of a distributed run: deals user IDs round-robin over the live workers as compact plans with a
 * common start instant, acts on all workers or the selected ones with per-node results, keeps the run record in
 * the key-value bucket, and re-deals the unfinished users of a worker that died. The master runs no users.
 */
import { randomUUID } from "node:crypto";
import type { Controller } from "../controller/controller.js";
import { ClusterError, UsageError, errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import type { Telemetry } from "../telemetry.js";
import { addToIntervals, dealProgressions, planIds, progressionsToIntervals, subtractIntervals, type Intervals, type Progression } from "./id-sets.js";
import type { Member, Membership } from "./membership.js";
import type { ClusterBus, KvStore } from "./nats-bus.js";
import { decode, encode, type Command, type EndedRecord, type Reply } from "./protocol.js";
import { RunStore, type RunState } from "./run-state.js";
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
}

/** One node's answer: its result, or why it failed (a node that does not answer is named, never dropped). */
export type NodeResult = { ok: true; result: Record<string, unknown> } | { ok: false; error: string };

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
}

/** Drives distributed runs from this node. */
export class Master {
  private readonly store: RunStore;
  private redealing = Promise.resolve();

  constructor(private readonly d: MasterDeps) {
    this.store = new RunStore(d.kv, d.subjects.runKey());
    d.membership.onDown((name) => {
      this.d.telemetry.emit("run.event", { kind: "node_down", data: { node: name } });
      this.redealing = this.redealing.then(() => this.redealLost(name)).catch((e: unknown) => this.d.log.error({ msg: "redeal_failed", node: name, err: errorMessage(e) }));
    });
    d.membership.onUp((name, m) => {
      if (m.role === "worker") this.d.telemetry.emit("run.event", { kind: "node_up", data: { node: name, labels: m.labels } });
    });
  }

  /** Live workers matching the selector, in the stable order IDs are dealt in (sorted by name). */
  workers(sel: NodeSelector = {}): Member[] {
    let ws = this.d.membership.live().filter((m) => m.role === "worker");
    if (sel.nodes) {
      const unknown = sel.nodes.filter((n) => !ws.some((w) => w.from === n));
      if (unknown.length) throw new UsageError(`no live worker named ${unknown.join(", ")}`, `live workers: ${ws.map((w) => w.from).join(", ") || "none"}`);
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
      if (Date.now() > end) throw new ClusterError("CLUSTER_NO_WORKERS", `only ${ws.length} of ${n} workers joined within ${timeoutMs} ms (${ws.map((w) => w.from).join(", ") || "none"})`, "start workers with bin/amoc worker (same AMOC_NATS_URL and AMOC_CLUSTER_NAME)");
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Starts scenario `name` with users from..to dealt round-robin over the selected workers. */
  async do(name: string, from: number, to: number, opts: DistOptions = {}): Promise<Record<string, unknown>> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || to < from) throw new UsageError(`bad user range ${from}..${to}`, "e.g. amoc_dist.do('dummy', 1, 3000)");
    const settings = opts.settings ?? {};
    const resolved = await this.d.controller.resolveRun(name, settings);
    const prev = await this.store.read();
    if (prev?.run.state === "running") {
      const owner = prev.run.master;
      await this.d.membership.settled();
      const alive = owner === this.d.nodeName || this.d.membership.isAlive(owner);
      throw new ClusterError("CLUSTER_BUSY", `the cluster is already running '${prev.run.scenario}' (run ${prev.run.runId}, master ${owner}${alive ? "" : ", which is down"})`, "stop it first: amoc_dist.stop()");
    }
    if (this.workers(opts).length === 0) await this.waitForWorkers(1, 3000);
    const workers = this.workers(opts);
    if (workers.length === 0) throw new ClusterError("CLUSTER_NO_WORKERS", "no live worker matches", "start workers with bin/amoc worker, or check {nodes}/{labels}");
    const ia = resolved.settings.interarrival;
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
      startedAt: new Date().toISOString(),
    };
    // claim the cluster first: of two masters starting at once, exactly one creates or updates the record
    let revision = await this.store.write(run, prev ? prev.revision : null);
    const prepared = await this.broadcast(workers.map((w) => w.from), () => ({ v: 1, type: "prepare", from: this.d.nodeName, runId: run.runId, scenario: name, settings }));
    const ready = workers.filter((w) => prepared[w.from]?.ok);
    if (ready.length === 0) {
      run.state = "finished";
      await this.store.write(run, revision);
      throw new ClusterError("CLUSTER_NODE_FAILED", `no worker could prepare the run: ${describeFailures(prepared)}`, "see status() and the workers' logs");
    }
    const dealt = await this.deal(run, ready, [{ first: from, last: to, step: 1 }]);
    revision = await this.store.write(run, revision);
    this.d.telemetry.emit("run.event", { kind: "do", data: { scenario: run.scenario, from, to, users: to - from + 1, workers: ready.length, comment: opts.comment } });
    return { run_id: run.runId, scenario: run.scenario, from, to, users: to - from + 1, nodes: mergeResults(prepared, dealt) };
  }

  /** Deals progressions over the given workers from a common instant; updates `run` (not yet written). */
  private async deal(run: RunState, workers: Member[], ps: Progression[]): Promise<Record<string, NodeResult>> {
    const k = workers.length;
    const t0 = Math.max(Date.now() + LEAD_MS, run.nextAtMs);
    const plans = dealProgressions(ps, k, t0, run.interarrivalMs);
    const names = workers.map((w) => w.from);
    const results = await this.broadcast(names, (node) => ({ v: 1, type: "start", from: this.d.nodeName, runId: run.runId, plans: plans[names.indexOf(node)]! }));
    const total = ps.reduce((n, p) => n + Math.floor((p.last - p.first) / p.step) + 1, 0);
    run.nextAtMs = Math.max(run.nextAtMs, t0 + total * run.interarrivalMs);
    names.forEach((n, j) => {
      const share = run.workers[n];
      // a node back after being lost starts a fresh share: its old users were re-dealt
      if (!share || share.lost) run.workers[n] = { plans: [...plans[j]!] };
      else share.plans.push(...plans[j]!);
    });
    return results;
  }

  /** Adds `n` users after the highest ID issued, dealt over the selected workers (late joiners included). */
  async add(n: number, opts: DistOptions = {}): Promise<Record<string, unknown>> {
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`add needs a positive integer, got ${JSON.stringify(n)}`, "e.g. amoc_dist.add(300)");
    const { run, revision } = await this.ownRun();
    const workers = await this.readyWorkers(run, opts);
    const from = run.lastId + 1;
    const to = run.lastId + n;
    run.lastId = to;
    const results = await this.deal(run, workers, [{ first: from, last: to, step: 1 }]);
    await this.store.write(run, revision);
    this.d.telemetry.emit("run.event", { kind: "add", data: { scenario: run.scenario, from, to, users: n, comment: opts.comment } });
    return { from, to, users: n, nodes: results };
  }

  /** Removes the `n` highest running IDs cluster-wide; each worker removes its share. */
  async remove(n: number, opts: DistOptions = {}): Promise<Record<string, unknown>> {
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`remove needs a positive integer, got ${JSON.stringify(n)}`, "e.g. amoc_dist.remove(30, {force: true})");
    const { run, revision } = await this.ownRun();
    const names = this.inRun(run, opts);
    const force = opts.force === true;
    const tops = await this.broadcast(names, () => ({ v: 1, type: "top_ids", from: this.d.nodeName, runId: run.runId, n, force }));
    const all: Array<[number, string]> = [];
    for (const [node, r] of Object.entries(tops)) if (r.ok) for (const id of r.result.ids as number[]) all.push([id, node]);
    all.sort((a, b) => b[0] - a[0]);
    const chosen = all.slice(0, n);
    const byNode = new Map<string, number[]>();
    for (const [id, node] of chosen) byNode.set(node, [...(byNode.get(node) ?? []), id]);
    const results = await this.broadcast([...byNode.keys()], (node) => ({ v: 1, type: "remove_ids", from: this.d.nodeName, runId: run.runId, ids: byNode.get(node)!, force }));
    for (const [node, r] of Object.entries(tops)) if (!r.ok) results[node] = r;
    run.removed = addToIntervals(run.removed, chosen.map(([id]) => id));
    await this.store.write(run, revision);
    const removed = Object.values(results).reduce((s, r) => s + (r.ok ? Number(r.result.removed) : 0), 0);
    this.d.telemetry.emit("run.event", { kind: "remove", data: { scenario: run.scenario, requested: n, removed, force, comment: opts.comment } });
    return { requested: n, removed, force, ids: chosen.length ? [chosen[chosen.length - 1]![0], chosen[0]![0]] : [], nodes: results };
  }

  /** Changes updatable variables on every worker of the run. */
  async updateSettings(settings: Record<string, unknown>, opts: DistOptions = {}): Promise<Record<string, unknown>> {
    const { run, revision } = await this.ownRun();
    const results = await this.broadcast(this.inRun(run, opts), () => ({ v: 1, type: "update_settings", from: this.d.nodeName, runId: run.runId, settings }));
    const failed = Object.values(results).filter((r) => !r.ok);
    if (failed.length === Object.keys(results).length && failed.length > 0) throw new ClusterError("CLUSTER_NODE_FAILED", `no worker accepted the settings: ${describeFailures(results)}`, "only updatable variables can change during a run");
    run.settings = { ...run.settings, ...settings };
    await this.store.write(run, revision);
    this.d.telemetry.emit("run.event", { kind: "settings", data: { scenario: run.scenario, ...settings } });
    return { nodes: results };
  }

  /** Stops the run on every worker (users forced down, `terminate` called) and marks it finished. */
  async stop(opts: DistOptions = {}): Promise<Record<string, unknown>> {
    const { run, revision } = await this.ownRun();
    const names = [...new Set([...this.inRun(run, opts), ...this.workers().filter((w) => w.runId === run.runId).map((w) => w.from)])];
    const results = await this.broadcast(names, () => ({ v: 1, type: "stop", from: this.d.nodeName, runId: run.runId }), this.d.timeoutMs + 5000);
    run.state = "finished";
    await this.store.write(run, revision);
    const totals = sumUsers(results);
    this.d.telemetry.emit("run.event", { kind: "stop", data: { scenario: run.scenario, ...totals, comment: opts.comment } });
    return { run_id: run.runId, scenario: run.scenario, users: totals, nodes: results };
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
    const results = await this.broadcast(names.filter((n) => this.d.membership.isAlive(n)), () => ({ v: 1, type: "status", from: this.d.nodeName }), Math.min(this.d.timeoutMs, STATUS_TIMEOUT_MS));
    for (const n of names) {
      if (!this.d.membership.isAlive(n)) results[n] = { ok: false, error: `down (no heartbeat)${run?.workers[n]?.lost ? "; its users were re-dealt to the others" : ""}` };
    }
    return {
      run: run ? { run_id: run.runId, state: run.state, scenario: run.scenario, master: run.master, master_alive: run.master === this.d.nodeName || this.d.membership.isAlive(run.master), from: run.from, last_id: run.lastId, settings: run.settings, lost_nodes: Object.entries(run.workers).filter(([, s]) => s.lost).map(([n]) => n) } : null,
      users: sumUsers(results),
      nodes: results,
    };
  }

  /** The live nodes with their roles, labels and states. */
  nodes(): Member[] {
    return this.d.membership.live();
  }

  /** The running run, taken over if its master is down; refused if another live master owns it. */
  private async ownRun(): Promise<{ run: RunState; revision: number }> {
    const cur = await this.store.read();
    if (!cur || cur.run.state !== "running") throw new ClusterError("CLUSTER_NO_WORKERS", "no distributed run is in progress", "start one: amoc_dist.do('dummy', 1, 1000)");
    const { run } = cur;
    if (run.master === this.d.nodeName) return cur;
    await this.d.membership.settled();
    if (this.d.membership.isAlive(run.master)) throw new ClusterError("CLUSTER_BUSY", `run ${run.runId} is mastered by ${run.master}, which is alive`, `use ${run.master}'s console, or stop that node to take over`);
    // the master died: this node takes the run over and re-deals what the dead nodes held
    run.master = this.d.nodeName;
    const revision = await this.store.write(run, cur.revision);
    this.d.log.warn({ msg: "run_taken_over", run: run.runId });
    for (const [n, s] of Object.entries(run.workers)) if (!s.lost && !this.d.membership.isAlive(n)) await this.redealLost(n);
    const again = await this.store.read();
    return again && again.run.runId === run.runId ? again : { run, revision };
  }

  /** Workers of the run able to take new users: live, selected, prepared (late joiners are prepared on the way). */
  private async readyWorkers(run: RunState, opts: NodeSelector): Promise<Member[]> {
    const ws = this.workers(opts);
    const unprepared = ws.filter((w) => w.runId !== run.runId).map((w) => w.from);
    if (unprepared.length) await this.broadcast(unprepared, () => ({ v: 1, type: "prepare", from: this.d.nodeName, runId: run.runId, scenario: run.scenario, settings: run.settings }));
    // the heartbeat may lag the prepare by a beat: ask again rather than trust it
    const st = await this.broadcast(ws.map((w) => w.from), () => ({ v: 1, type: "status", from: this.d.nodeName }));
    const ready = ws.filter((w) => st[w.from]?.ok && (st[w.from] as { result: Record<string, unknown> }).result.run_id === run.runId);
    if (ready.length === 0) throw new ClusterError("CLUSTER_NO_WORKERS", `no live worker is ready for run ${run.runId}: ${describeFailures(st)}`, "start workers with bin/amoc worker");
    return ready;
  }

  /** Names of the selected live workers holding a share of the run. */
  private inRun(run: RunState, sel: NodeSelector): string[] {
    const selected = new Set(this.workers(sel).map((w) => w.from));
    return Object.entries(run.workers).filter(([n, s]) => !s.lost && selected.has(n)).map(([n]) => n);
  }

  /** Re-deals the users a dead worker held and had not ended (nor were removed) over the live workers of the run. */
  private async redealLost(node: string): Promise<void> {
    const cur = await this.store.read();
    if (!cur || cur.run.state !== "running" || cur.run.master !== this.d.nodeName) return;
    const { run } = cur;
    const share = run.workers[node];
    if (!share || share.lost) return;
    const t0 = Date.now();
    const endedEntry = await this.d.kv.get(this.d.subjects.endedKey(run.runId, node)).catch(() => null);
    const ended = endedEntry ? (JSON.parse(endedEntry.value) as EndedRecord) : { overflow: false, progressions: [] };
    const cut: Intervals = addToIntervals(run.removed, []);
    const endedIntervals = ended.overflow ? [] : progressionsToIntervals(ended.progressions);
    const gone = mergeIntervals(cut, endedIntervals);
    const lost = share.plans.flatMap((p) => {
      const ids = planIds(p);
      return ids ? subtractIntervals(ids, gone) : [];
    });
    share.lost = true;
    const survivors = this.workers().filter((w) => w.from !== node && run.workers[w.from] && !run.workers[w.from]!.lost);
    const count = lost.reduce((n, p) => n + Math.floor((p.last - p.first) / p.step) + 1, 0);
    if (count === 0 || survivors.length === 0) {
      await this.store.write(run, cur.revision);
      this.d.log.error({ msg: survivors.length ? "node_lost_nothing_to_redeal" : "node_lost_no_survivors", node, users: count });
      return;
    }
    const results = await this.deal(run, survivors, lost);
    await this.store.write(run, cur.revision);
    this.d.log.warn({ msg: "node_lost_users_redealt", node, users: count, to: survivors.map((w) => w.from), ended_overflow: ended.overflow, ms: Date.now() - t0 });
    this.d.telemetry.emit("run.event", { kind: "node_down", data: { node, redealt: count, to: survivors.map((w) => w.from), failures: describeFailures(results) || undefined } });
  }

  /** Sends one command to each node in parallel; every node gets an entry, answered or not. */
  private async broadcast(nodes: string[], make: (node: string) => Command, timeoutMs = this.d.timeoutMs): Promise<Record<string, NodeResult>> {
    const out: Record<string, NodeResult> = {};
    await Promise.all(
      nodes.map(async (node) => {
        try {
          const raw = await this.d.bus.request(this.d.subjects.command(node), encode(make(node)), timeoutMs);
          const r = decode<Reply>(raw, ["reply"]);
          if (!r.ok) out[node] = { ok: false, error: `malformed reply: ${r.reason}` };
          else if (r.msg.ok) out[node] = { ok: true, result: (r.msg.result ?? {}) as Record<string, unknown> };
          else out[node] = { ok: false, error: `${r.msg.error.message}${r.msg.error.hint ? ` (hint: ${r.msg.error.hint})` : ""}` };
        } catch (e) {
          out[node] = { ok: false, error: errorMessage(e) };
        }
      }),
    );
    return out;
  }
}

function mergeIntervals(a: Intervals, b: Intervals): Intervals {
  const out: Intervals = [];
  for (const [x, y] of [...a, ...b].sort((p, q) => p[0] - q[0])) {
    const last = out[out.length - 1];
    if (last && x <= last[1] + 1) last[1] = Math.max(last[1], y);
    else out.push([x, y]);
  }
  return out;
}

function describeFailures(results: Record<string, NodeResult>): string {
  return Object.entries(results)
    .filter(([, r]) => !r.ok)
    .map(([n, r]) => `${n}: ${(r as { error: string }).error}`)
    .join("; ");
}

function mergeResults(a: Record<string, NodeResult>, b: Record<string, NodeResult>): Record<string, NodeResult> {
  const out: Record<string, NodeResult> = { ...a };
  for (const [n, r] of Object.entries(b)) out[n] = r.ok && out[n]?.ok ? { ok: true, result: { ...(out[n] as { result: object }).result, ...r.result } } : r;
  return out;
}

/** Sums the user counts of the nodes that answered. */
export function sumUsers(results: Record<string, NodeResult>): Record<string, number> {
  const t = { running: 0, started: 0, finished: 0, crashed: 0, removed: 0, pending: 0 };
  for (const r of Object.values(results)) {
    const u = r.ok ? (r.result.users as Record<string, number> | undefined) : undefined;
    if (u) for (const k of Object.keys(t) as Array<keyof typeof t>) t[k] += u[k] ?? 0;
  }
  return t;
}
