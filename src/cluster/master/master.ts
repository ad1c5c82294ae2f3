/**
 * The master side of a distributed run, a coordinator of its parts: dealing users (dealing.ts), re-dealing a lost
 * worker's (redeal.ts), removing (removal.ts), the run record in the bucket (run-record.ts), status (status.ts),
 * stopping (stop.ts) and each worker's last counts from the results feed (worker-counts.ts). Every change of the run goes
 * through one queue, so a re-deal never races a do/add/remove/stop. The master runs no users.
 */
import { systemClock, type Clock } from "../../clock.js";
import { AmocError, ClusterError, UsageError, errorMessage, type ErrorCode } from "../../errors.js";
import { RemovalDriver } from "../../shapes/stages.js";
import type { Member } from "../membership.js";
import { Problems } from "../problems.js";
import type { CommandOf, CommandType } from "../protocol.js";
import { RunStore, type RunState } from "../run-state.js";
import { broadcast, describeFailures, failedNodes, refusalOf } from "./broadcast.js";
import { deal, readyWorkers } from "./dealing.js";
import { redealLost } from "./redeal.js";
import { removeUsers } from "./removal.js";
import { inRun, markLeft, ownRun } from "./run-record.js";
import { WorkerCounts } from "./worker-counts.js";
import { clusterStatus } from "./status.js";
import { startRun } from "./start.js";
import { stopWorkers } from "./stop.js";
import type {
  AddResult,
  DistOptions,
  DoResult,
  MasterCtx,
  MasterDeps,
  NodeResult,
  NodeSelector,
  RemoveResult,
  StatusResult,
  StopResult,
} from "./types.js";

export type * from "./types.js";

/** Codes a worker refuses settings with when the client asked for something wrong (passed through when all agree). */
const CLIENT_CODES = new Set<string>(["VARIABLE_READ_ONLY", "VARIABLE_UNDECLARED", "VARIABLE_INVALID", "USAGE"]);

/** Drives distributed runs from this node. */
export class Master {
  private readonly ctx: MasterCtx;
  private queue: Promise<unknown> = Promise.resolve();
  /** Paces the ramp-downs of the run's load shape (stages), from the shape's start instant. */
  private removals: RemovalDriver | undefined;
  /** The running run's per-worker counts, from the results feed (a lost worker's entry shows them). */
  private counts: WorkerCounts;

  constructor(private readonly d: MasterDeps) {
    const clock: Clock = d.clock ?? systemClock;
    this.ctx = {
      d,
      clock,
      store: new RunStore(d.kv, d.subjects.runKey()),
      problems: new Problems(d.log),
      workers: (sel) => this.workers(sel),
      send: <K extends CommandType>(nodes: string[], make: (n: string) => CommandOf<K>, timeoutMs = d.timeoutMs) =>
        broadcast(d, nodes, make, timeoutMs),
    };
    this.counts = new WorkerCounts(d.results);
    const { problems } = this.ctx;
    d.membership.onDown((name) => {
      d.telemetry.emit("run.event", { kind: "node_down", data: { node: name } });
      this.serially(() => this.redeal(name)).catch((e: unknown) =>
        problems.note(
          `redeal_failed:${name}`,
          errorMessage(e),
          `${name}'s unfinished users are not re-dealt yet; the next add or remove tries again`,
        ),
      );
    });
    d.membership.onLeft((name, m) => {
      if (m.role !== "worker") return; // a console or master leaving is logged by membership, not announced
      d.telemetry.emit("run.event", { kind: "node_left", data: { node: name } });
      this.serially(() => markLeft(this.ctx, name)).catch((e: unknown) =>
        problems.note(
          `mark_left_failed:${name}`,
          errorMessage(e),
          `${name} may be listed as down although it left normally`,
        ),
      );
    });
    d.membership.onDuplicate((name, boot, other) =>
      problems.note(
        `duplicate_node_name:${name}`,
        `another process (boot ${other}) beats under the name of live node ${name} (boot ${boot})`,
        `it gets no commands while ${name} (boot ${boot}) lives; give each node its own name`,
      ),
    );
    d.membership.onUp((name, m) => {
      if (m.role === "worker")
        d.telemetry.emit("run.event", { kind: "node_up", data: { node: name, labels: m.labels } });
    });
  }

  /** The run this master last read or wrote in the bucket, and whether it was running (the results feed binds to it). */
  get lastRun(): { runId: string; running: boolean } | null {
    return this.ctx.store.lastSeen;
  }

  /** Runs `fn` after every change queued before it (errors reach the caller, not the queue). */
  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private redeal(node: string): Promise<void> {
    return redealLost(this.ctx, node, this.counts.lastCounts(node));
  }

  private ownRun(): Promise<{ run: RunState; revision: number }> {
    return ownRun(this.ctx, (n) => this.redeal(n));
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
    const end = this.ctx.clock.now() + timeoutMs;
    for (;;) {
      const ws = this.workers();
      if (ws.length >= n) return ws;
      if (this.ctx.clock.now() > end)
        throw new ClusterError(
          "CLUSTER_NO_WORKERS",
          `only ${ws.length} of ${n} workers joined within ${timeoutMs} ms (${ws.map((w) => w.from).join(", ") || "none"})`,
          "start workers with bin/amoc worker (same AMOC_NATS_URL and AMOC_CLUSTER_NAME)",
        );
      await new Promise((r) => this.ctx.clock.setTimeout(() => r(undefined), 100));
    }
  }

  /** Starts scenario `name` with users from..to dealt round-robin over the selected workers. */
  do(name: string, from: number, to: number, opts: DistOptions = {}): Promise<DoResult> {
    return this.serially(() =>
      startRun(this.ctx, name, from, to, opts, {
        waitForWorkers: () => this.waitForWorkers(1, 3000),
        // a new run: its counts start empty
        claimed: () => {
          this.counts.unfollow();
          this.counts = new WorkerCounts(this.d.results);
        },
        removals: (t0Ms, removals) => {
          this.removals = new RemovalDriver(
            t0Ms,
            removals,
            (n) => this.remove(n),
            (e) => this.d.log.warn({ msg: "stage_removal_failed", err: errorMessage(e) }),
          ).start();
        },
      }),
    );
  }

  /** Adds `n` users after the highest ID issued, dealt over the selected workers (late joiners included). */
  add(n: number, opts: DistOptions = {}): Promise<AddResult> {
    return this.serially(async () => {
      if (!Number.isSafeInteger(n) || n < 1)
        throw new UsageError(`add needs a positive integer, got ${JSON.stringify(n)}`, "e.g. amoc_dist.add(300)");
      const { run, revision } = await this.ownRun();
      const { ready, unready } = await readyWorkers(this.ctx, run, opts);
      const from = run.lastId + 1;
      const to = (run.lastId += n);
      const dealt = await deal(this.ctx, run, ready, [{ first: from, last: to, step: 1 }]);
      const nodes = { ...unready, ...dealt.results };
      await this.ctx.store.write(run, revision);
      const { undealt } = dealt;
      this.d.telemetry.emit("run.event", {
        kind: "add",
        data: { scenario: run.scenario, from, to, users: n, undealt, comment: opts.comment },
      });
      return { from, to, users: n, undealt, failed: failedNodes(nodes), nodes };
    });
  }

  /** Removes the `n` highest running IDs cluster-wide; each worker removes its share. */
  remove(n: number, opts: DistOptions = {}): Promise<RemoveResult> {
    return this.serially(async () => {
      if (!Number.isSafeInteger(n) || n < 1)
        throw new UsageError(
          `remove needs a positive integer, got ${JSON.stringify(n)}`,
          "e.g. amoc_dist.remove(30, {force: true})",
        );
      const { run, revision } = await this.ownRun();
      const force = opts.force === true;
      const r = await removeUsers(this.ctx, run, inRun(this.ctx, run, opts), n, force);
      await this.ctx.store.write(run, revision);
      this.d.telemetry.emit("run.event", {
        kind: "remove",
        data: { scenario: run.scenario, requested: n, removed: r.removed, force, comment: opts.comment },
      });
      return r;
    });
  }

  /** Changes updatable variables on every worker of the run. */
  updateSettings(
    settings: Record<string, unknown>,
    opts: DistOptions = {},
  ): Promise<{ nodes: Record<string, NodeResult> }> {
    return this.serially(async () => {
      const { run, revision } = await this.ownRun();
      const nodes: Record<string, NodeResult> = await this.ctx.send(inRun(this.ctx, run, opts), () => ({
        v: 1,
        type: "update_settings",
        from: this.d.nodeName,
        runId: run.runId,
        settings,
      }));
      const failed = Object.values(nodes).flatMap((r) => (r.ok ? [] : [r]));
      if (failed.length === Object.keys(nodes).length && failed.length > 0) {
        // every worker refused for the client's reason (read-only, undeclared, invalid): that error, not a node failure
        const code = failed[0]!.code;
        const first = refusalOf(failed[0]!);
        if (code && first && CLIENT_CODES.has(code) && failed.every((f) => f.code === code))
          throw new AmocError(code as ErrorCode, first.message, first.hint);
        throw new ClusterError(
          "CLUSTER_NODE_FAILED",
          `no worker accepted the settings: ${describeFailures(nodes)}`,
          "only updatable variables can change during a run",
        );
      }
      run.settings = { ...run.settings, ...settings };
      await this.ctx.store.write(run, revision);
      this.d.telemetry.emit("run.event", { kind: "settings", data: { scenario: run.scenario, ...settings } });
      return { nodes };
    });
  }

  /**
   * Stops the run on every worker (users forced down, `terminate` called) and marks it finished; resolves once each
   * answering worker's final results interval has been delivered (master/stop.ts).
   */
  stop(opts: DistOptions = {}): Promise<StopResult> {
    return this.serially(async () => {
      const { run, revision } = await this.ownRun();
      this.removals?.stop();
      const r = await stopWorkers(this.ctx, run, opts, this.counts);
      run.state = "finished";
      await this.ctx.store.write(run, revision);
      this.d.telemetry.emit("run.event", {
        kind: "stop",
        data: { scenario: run.scenario, ...r.users, comment: opts.comment },
      });
      return { run_id: run.runId, scenario: run.scenario, ...r };
    });
  }

  /** The run and every node's status; workers of the run that were lost are listed as such. */
  status(): Promise<StatusResult> {
    return clusterStatus(this.ctx, this.counts);
  }

  /** The live nodes with their roles, labels and states. */
  nodes(): Member[] {
    return this.d.membership.live();
  }
}
