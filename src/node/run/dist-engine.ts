/**
 * The cluster as a run engine, with this node as master: joins NATS on first use (so local mode never needs it),
 * passes commands to the Master and returns its per-node results. Unknown node names are NODE_NOT_FOUND (404). The
 * run's intervals come from the workers through the results feed (cluster/results-feed.ts).
 */
import { joinCluster, type ClusterHandle, type JoinDeps } from "../../cluster/cluster-node.js";
import type { Master, NodeResult } from "../../cluster/master/master.js";
import { resultsFeed } from "../../cluster/results-feed.js";
import type { StatusReport } from "../../controller/types.js";
import { ClusterError } from "../../errors.js";
import type { RunRecording } from "../../results/recorder.js";
import type {
  ApiStatus,
  CommandOptions,
  CommandResult,
  NodeInfo,
  NodeSelector,
  PerNode,
  RunInfo,
  ThrottleRequest,
} from "../node-api.js";
import type { EngineStart, RunEngine } from "./engine.js";
import { selectNodes } from "./selector.js";

/** The part of a cluster handle the engine uses (`bus`: the upload store shares the master's NATS connection). */
export type MasterHandle = Pick<ClusterHandle, "master" | "close" | "throttles"> & {
  membership: Pick<ClusterHandle["membership"], "warmedUp">;
  bus?: ClusterHandle["bus"];
};

/** What the dist API needs from the node: joining, and a place to register leaving. */
export interface DistApiDeps extends JoinDeps {
  onClose(fn: () => Promise<void> | void): void;
  /** How to join as master (default: NATS through joinCluster; tests pass an in-memory cluster). */
  join?: () => Promise<MasterHandle>;
}

/** How often `waitForWorkers` reports who it still waits for. */
const WAIT_REPORT_MS = 2000;

/** The cluster as one API; the Master (and the NATS connection) is created by the first call that needs it. */
export class DistEngine implements RunEngine {
  readonly mode = "dist" as const;
  readonly localIntervals = false;
  private joining: Promise<MasterHandle> | undefined;

  constructor(private readonly d: DistApiDeps) {}

  get nodeName(): string {
    return this.d.settings.node_name;
  }

  /** The cluster handle, joining as master on first use; a failed join (NATS down) is retried by the next call. */
  async handle(): Promise<MasterHandle> {
    this.joining ??= (this.d.join ? this.d.join() : joinCluster(this.d, "master")).then((h) => {
      this.d.onClose(() => h.close());
      return h;
    });
    try {
      const h = await this.joining;
      // the first heartbeats take up to a second to arrive
      await h.membership.warmedUp();
      return h;
    } catch (e) {
      this.joining = undefined;
      throw e;
    }
  }

  async connect(): Promise<void> {
    await this.handle();
  }

  /** The master, joining the cluster on first use. */
  async master(): Promise<Master> {
    return (await this.handle()).master!;
  }

  /**
   * Waits until at least `n` workers are live, calling `onWait` with the live workers every 2 s while it waits;
   * CLUSTER_NO_WORKERS naming the ones that joined when `timeoutMs` passes.
   */
  async waitForWorkers(n: number, timeoutMs: number, onWait?: (live: string[]) => void): Promise<string[]> {
    const m = await this.master();
    const end = Date.now() + timeoutMs;
    let nextReport = Date.now() + WAIT_REPORT_MS;
    for (;;) {
      const live = m.workers().map((w) => w.from);
      if (live.length >= n) return live;
      if (Date.now() > end) {
        throw new ClusterError(
          "CLUSTER_NO_WORKERS",
          `only ${live.length} of ${n} workers joined within ${timeoutMs} ms (${live.join(", ") || "none"})`,
          "start workers with bin/amoc worker (same AMOC_NATS_URL and AMOC_CLUSTER_NAME)",
        );
      }
      if (onWait && Date.now() >= nextReport) {
        onWait(live);
        nextReport = Date.now() + WAIT_REPORT_MS;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Throws NODE_NOT_FOUND for a name no live worker has (the Master would call it a usage error). */
  private async checked(sel: NodeSelector | undefined): Promise<Master> {
    const m = await this.master();
    if (sel?.nodes !== undefined || sel?.labels !== undefined)
      selectNodes(
        m.workers().map((w) => ({ name: w.from, labels: w.labels })),
        sel,
      );
    return m;
  }

  async nodes(): Promise<NodeInfo[]> {
    const m = await this.master();
    return m.nodes().map((x) => ({
      name: x.from,
      role: x.role === "worker" ? "worker" : "master",
      labels: x.labels,
      state: x.state,
      running: x.running,
      run_id: x.runId,
    }));
  }

  async status(): Promise<ApiStatus> {
    const s = await (await this.master()).status();
    const r = s.run as
      | (Record<string, unknown> & {
          run_id: string;
          state: string;
          scenario: string;
          settings: Record<string, unknown>;
          master: string;
        })
      | null;
    const run: RunInfo | null = r
      ? { ...r, run_id: r.run_id, state: r.state, scenario: r.scenario, settings: r.settings, master: r.master }
      : null;
    return {
      ...s,
      mode: "dist",
      run,
      users: s.users as ApiStatus["users"],
      nodes: s.nodes as Record<string, PerNode<StatusReport>>,
    };
  }

  async nodeStatus(node: string): Promise<StatusReport> {
    const s = await this.status();
    const r = s.nodes[node];
    if (!r)
      selectNodes(
        Object.keys(s.nodes).map((name) => ({ name, labels: {} })),
        { nodes: [node] },
      );
    if (!r!.ok)
      throw new ClusterError("CLUSTER_NODE_FAILED", `node ${node}: ${r!.error}`, "see status() and the node's log");
    return r!.result;
  }

  /** The selector names live workers, and the master (this node's controller) accepts the scenario and settings. */
  async check(req: EngineStart): Promise<void> {
    await this.checked(req);
    await this.d.controller.resolveRun(req.scenario.file, req.settings);
  }

  async start(req: EngineStart): Promise<CommandResult> {
    const m = await this.checked(req);
    return result(
      await m.do(req.scenario.file, req.from, req.to, {
        settings: req.settings,
        nodes: req.nodes,
        labels: req.labels,
        comment: req.comment,
        version: req.scenario.source === "uploaded" ? req.scenario.version : undefined,
      }),
      "users",
    );
  }

  async add(n: number, opts: CommandOptions = {}): Promise<CommandResult> {
    return result(await (await this.checked(opts)).add(n, opts), "users");
  }

  async remove(n: number, opts: CommandOptions = {}): Promise<CommandResult> {
    return result(await (await this.checked(opts)).remove(n, opts), "removed");
  }

  async updateSettings(settings: Record<string, unknown>, opts: CommandOptions = {}): Promise<CommandResult> {
    return result(await (await this.checked(opts)).updateSettings(settings, opts));
  }

  async throttle(req: ThrottleRequest, opts: NodeSelector = {}): Promise<CommandResult> {
    await this.master();
    return distThrottle(this, this.joining, req, opts);
  }

  /** Resolves when the run has no user left, as status shows it (polled). */
  async whenNoUsers(): Promise<void> {
    for (;;) {
      const s = await this.status().catch(() => undefined);
      if (!s || s.run?.state !== "running") return; // no run to wait for (or the cluster cannot say)
      if (s.users.running === 0 && s.users.pending === 0 && s.users.started > 0) return;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  follow(rec: RunRecording): () => void {
    return resultsFeed(this.d.telemetry).follow(rec);
  }

  async stop(opts: CommandOptions = {}): Promise<CommandResult> {
    const r = await (await this.checked(opts)).stop(opts);
    const users = r.users as Record<string, number> | undefined;
    return { ...r, users: users?.removed, user_counts: users, nodes: r.nodes as Record<string, NodeResult> };
  }
}

/** Throttle ops on the run's workers (or the selected ones), through the master's throttle splitter. */
export async function distThrottle(
  api: DistEngine,
  handle: Promise<MasterHandle> | undefined,
  req: ThrottleRequest,
  opts: NodeSelector = {},
): Promise<CommandResult> {
  const m = await api.master();
  const h = await handle;
  if (!h?.throttles)
    throw new ClusterError("CLUSTER_UNAVAILABLE", "this node has no throttle splitter", "join the cluster as master");
  const names = opts.nodes !== undefined || opts.labels !== undefined ? m.workers(opts).map((w) => w.from) : undefined;
  return { nodes: await h.throttles.op(req as unknown as Record<string, unknown>, names) };
}

/** A master result as a CommandResult: its fields kept, `users` the count named by `countKey`. */
function result(r: Record<string, unknown>, countKey?: string): CommandResult {
  const out: CommandResult = { ...r, nodes: (r.nodes ?? {}) as Record<string, NodeResult> };
  if (countKey !== undefined) out.users = typeof r[countKey] === "number" ? (r[countKey] as number) : undefined;
  if (out.users === undefined) delete out.users;
  return out;
}
