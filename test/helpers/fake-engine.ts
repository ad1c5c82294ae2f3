/**
 * A scripted run engine for unit tests of the run service and `amoc run`'s loop: each status() takes the next
 * per-node view (the last one repeats), stop() answers with the current view, and the recording it is asked to
 * follow is kept so a test can feed it other nodes' intervals.
 */
import type { StatusReport } from "../../src/controller/types.js";
import type { ApiStatus, CommandResult, NodeApiMode, NodeInfo, PerNode, RunInfo } from "../../src/node/node-api.js";
import type { EngineStart, RunEngine } from "../../src/node/run/engine.js";
import { Histogram } from "../../src/results/histogram.js";
import type { EncodedInterval } from "../../src/results/interval.js";
import type { RunRecording } from "../../src/results/recorder.js";
import type { UserCounts } from "../../src/users/user-pool.js";

export function counts(p: Partial<UserCounts> = {}): UserCounts {
  return { running: 0, started: 0, finished: 0, crashed: 0, removed: 0, pending: 0, removing: 0, ...p };
}

export function report(node: string, users: UserCounts, extra: Partial<StatusReport> = {}): StatusReport {
  return {
    node,
    state: "running",
    scenario: "dummy",
    users,
    first_id: 1,
    last_id: 4,
    settings: { interarrival: 0, repeat_num: "infinity", repeat_interval: 60000 },
    errors: [],
    uptime_ms: 0,
    ...extra,
  };
}

export const ok = (r: StatusReport): PerNode<StatusReport> => ({ ok: true, result: r });

export type View = Record<string, PerNode<StatusReport>>;

/** What the scripted engine does besides its views. */
export interface ScriptOptions {
  mode?: NodeApiMode;
  /** The start's reply (default: every node of the first view ok). */
  start?: CommandResult;
  /** Refuses a start at check time (before anything is recorded). */
  refuse?: (req: EngineStart) => Error | undefined;
  /** Nodes the status lists as lost (`run.lost_nodes`, as the master reports them). */
  lostNodes?: () => string[];
  /** More fields of the stop's reply (`lost_nodes`, `problems`). */
  stopExtra?: Record<string, unknown>;
}

/** See the file comment. */
export class ScriptedEngine implements RunEngine {
  readonly mode: NodeApiMode;
  readonly nodeName = "master";
  readonly localIntervals = false;
  readonly calls: string[] = [];
  started: EngineStart | undefined;
  rec: RunRecording | undefined;
  private i = 0;
  private running = false;

  constructor(
    public views: View[],
    private readonly o: ScriptOptions = {},
  ) {
    this.mode = o.mode ?? "dist";
  }

  private current(): View {
    return this.views[Math.min(this.i, this.views.length - 1)]!;
  }

  async nodes(): Promise<NodeInfo[]> {
    return [];
  }

  async status(): Promise<ApiStatus> {
    this.calls.push("status");
    const nodes = this.current();
    this.i++;
    const users = counts();
    for (const r of Object.values(nodes))
      if (r.ok) for (const k of Object.keys(users) as Array<keyof UserCounts>) users[k] += r.result.users[k];
    const run: (RunInfo & { lost_nodes?: string[] }) | null = this.started
      ? {
          run_id: "c1",
          state: this.running ? "running" : "finished",
          scenario: this.started.scenario.name,
          settings: {},
          lost_nodes: this.o.lostNodes?.() ?? [],
        }
      : null;
    return { mode: this.mode, run, users, nodes };
  }

  async nodeStatus(node: string): Promise<StatusReport> {
    const r = this.current()[node];
    if (!r?.ok) throw new Error(`no node ${node}`);
    return r.result;
  }

  async check(req: EngineStart): Promise<void> {
    this.calls.push("check");
    const e = this.o.refuse?.(req);
    if (e) throw e;
  }

  async start(req: EngineStart): Promise<CommandResult> {
    this.calls.push("start");
    this.started = req;
    this.running = true;
    return (
      this.o.start ?? {
        nodes: Object.fromEntries(Object.keys(this.views[0] ?? {}).map((n) => [n, { ok: true, result: {} }])),
      }
    );
  }

  async add(): Promise<CommandResult> {
    return { nodes: {} };
  }

  async remove(): Promise<CommandResult> {
    return { nodes: {} };
  }

  async updateSettings(): Promise<CommandResult> {
    return { nodes: {} };
  }

  async stop(): Promise<CommandResult> {
    this.calls.push("stop");
    this.running = false;
    return { ...this.o.stopExtra, nodes: this.current() as Record<string, PerNode<Record<string, unknown>>> };
  }

  async throttle(): Promise<CommandResult> {
    return { nodes: {} };
  }

  whenNoUsers(): Promise<void> {
    return new Promise(() => {});
  }

  async waitForWorkers(): Promise<string[]> {
    return Object.keys(this.current());
  }

  async connect(): Promise<void> {}

  follow(rec: RunRecording): () => void {
    this.rec = rec;
    return () => {
      this.rec = undefined;
    };
  }
}

/** One node's interval at `t` with counters and timings (ms values). */
export function interval(
  node: string,
  t: number,
  c: Record<string, number>,
  timings: Record<string, number[]> = {},
  ms = 1000,
): EncodedInterval {
  const h: Record<string, string> = {};
  for (const [k, vs] of Object.entries(timings)) {
    const x = new Histogram();
    for (const v of vs) x.recordMs(v);
    h[k] = x.encode();
  }
  return { v: 1, node, t, ms, c, g: {}, h };
}
