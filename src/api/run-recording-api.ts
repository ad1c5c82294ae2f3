/**
 * Records the runs a console, daemon or REST client starts (`amoc_local.do`, `amoc_dist.do`, PATCH /execution/start)
 * into the node's run store, as `bin/amoc run` does: a Node API wrapper starts a recording with each start and ends it
 * with the stop; status gains `last_interval`. Thresholds come from the config file (`"thresholds": [...]`) and the
 * start request (`thresholds`); they are evaluated at the stop.
 */
import { configFilePath, readConfigFile } from "../config/load.js";
import { resultsFeed } from "../cluster/results-feed.js";
import { ConfigError, errorMessage } from "../errors.js";
import type { AmocNode } from "../node/amoc-node.js";
import type { CommandResult, NodeApi, StartRequest } from "../node/node-api.js";
import { recordRun, type LastInterval, type RunRecording } from "../results/recorder.js";
import { describeStoreLoss } from "../results/store-loss.js";
import { parseThresholds, type Threshold } from "../results/thresholds.js";
import { runStorePath } from "./commands/runs.js";

/** A start request that may carry thresholds (PATCH /execution/start's `thresholds`). */
export type RecordedStartRequest = StartRequest & { thresholds?: string[] };

/** The thresholds of the config file (AMOC_CONFIG_FILE's `"thresholds": ["xmpp.message_ttd.p99<50", ...]`). */
export function configThresholds(env: NodeJS.ProcessEnv): Threshold[] {
  const file = configFilePath(env);
  if (!file) return [];
  const raw = readConfigFile(file).thresholds;
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.some((x) => typeof x !== "string"))
    throw new ConfigError([
      {
        key: "thresholds",
        source: `${file}: thresholds`,
        message: "must be an array of strings like 'xmpp.message_ttd.p99<50'",
      },
    ]);
  return parseThresholds(raw as string[]);
}

/** A recording of one run. */
export interface OpenRecording {
  rec: RunRecording;
  unfollow: () => void;
  scenario: string;
  startedAt: number;
}

/** The runs of one node's front ends being recorded, one per mode (local, dist). */
export class NodeRunRecorder {
  private readonly open = new Map<"local" | "dist", OpenRecording>();
  private readonly fileThresholds: Threshold[];

  constructor(private readonly node: AmocNode) {
    this.fileThresholds = configThresholds(node.env);
    node.onClose(() => this.closeAll());
  }

  /**
   * Starts recording a run about to start (before it starts: its first users count); `started` or `failed` follows.
   * `thresholds`: the request's, parsed here (a bad one is a usage error before anything starts).
   */
  begin(mode: "local" | "dist", req: RecordedStartRequest): OpenRecording {
    const thresholds = [...this.fileThresholds, ...parseThresholds(req.thresholds ?? [])];
    const n = this.node;
    const users = req.users ?? (req.to !== undefined ? req.to - (req.from ?? 1) + 1 : 1);
    const rec = recordRun({
      telemetry: n.telemetry,
      localIntervals: mode === "local",
      node: n.settings.node_name,
      storePath: runStorePath(n.settings.data_dir, n.env),
      intervalMs: n.settings.results_interval,
      scenario: req.scenario,
      settings: req.settings ?? {},
      users,
      thresholds,
      log: n.log,
    });
    const unfollow = mode === "dist" ? resultsFeed(n.telemetry).follow(rec) : () => {};
    return { rec, unfollow, scenario: req.scenario, startedAt: Date.now() };
  }

  /** The run started: its recording is the mode's (a previous one not stopped ends here). */
  started(mode: "local" | "dist", o: OpenRecording): void {
    this.finish(mode, undefined);
    this.open.set(mode, o);
  }

  /** The start was refused (a usage error, a busy node or cluster): no run took place, its recording is removed. */
  failed(o: OpenRecording, e: unknown): void {
    o.unfollow();
    try {
      o.rec.discard();
      this.node.log.info({ msg: "run_start_refused", scenario: o.scenario, err: errorMessage(e) });
    } catch (err) {
      this.node.log.warn({
        msg: "run_record_failed",
        err: errorMessage(err),
        affects: "the run store may keep an empty run for this refused start",
      });
    }
  }

  /** Ends the mode's recording with the stop result (undefined: ended without a stop, e.g. the node closes). */
  finish(mode: "local" | "dist", stopped: CommandResult | undefined): void {
    const o = this.open.get(mode);
    if (!o) return;
    this.open.delete(mode);
    o.unfollow();
    const summary = summaryOf(o.scenario, stopped, Date.now() - o.startedAt);
    try {
      const end = o.rec.end({
        summary,
        exitCode: (summary.users as { crashed: number }).crashed > 0 ? 1 : 0,
        nodes: stopped && mode === "dist" ? Object.keys(stopped.nodes) : undefined,
      });
      this.node.log.info({
        msg: "run_recorded",
        run: end.runId,
        verdict: end.verdict,
        thresholds: end.thresholds.filter((t) => !t.ok).map((t) => t.expr),
        ...(end.storeLoss ? { store_loss: describeStoreLoss(end.storeLoss) } : {}),
      });
    } catch (e) {
      this.node.log.warn({
        msg: "run_record_failed",
        err: errorMessage(e),
        affects: "the run store lacks this run's end",
      });
    }
  }

  /** The last merged interval of the mode's run being recorded (null: none). */
  lastInterval(mode: "local" | "dist"): LastInterval | null {
    return this.open.get(mode)?.rec.lastInterval() ?? null;
  }

  private closeAll(): void {
    for (const mode of [...this.open.keys()]) this.finish(mode, undefined);
  }
}

/** A run's summary from a stop result: user totals, per-node counts, the merged metrics (dist). */
function summaryOf(scenario: string, stopped: CommandResult | undefined, durationMs: number): Record<string, unknown> {
  const users = { running: 0, started: 0, finished: 0, crashed: 0, removed: 0 };
  const nodes: Record<string, unknown> = {};
  let settings: unknown;
  for (const [name, r] of Object.entries(stopped?.nodes ?? {})) {
    if (!r.ok) continue;
    const u = (r.result.users ?? {}) as Partial<typeof users>;
    for (const k of Object.keys(users) as Array<keyof typeof users>) users[k] += u[k] ?? 0;
    nodes[name] = {
      started: u.started ?? 0,
      finished: u.finished ?? 0,
      crashed: u.crashed ?? 0,
      running: u.running ?? 0,
    };
    settings ??= r.result.settings;
  }
  const out: Record<string, unknown> = { scenario, users, duration_ms: Math.round(durationMs), nodes };
  if (settings) out.settings = settings;
  if (stopped?.metrics) out.metrics = stopped.metrics;
  if (!stopped) out.ended = "without a stop (the node closed)";
  return out;
}

const recorders = new WeakMap<AmocNode, NodeRunRecorder>();

/** The node's recorder (one per node: the console, the daemon and REST share it). */
export function nodeRunRecorder(node: AmocNode): NodeRunRecorder {
  let r = recorders.get(node);
  if (!r) {
    r = new NodeRunRecorder(node);
    recorders.set(node, r);
  }
  return r;
}

/**
 * `api` with its runs recorded: start begins a recording (and passes the request on without `thresholds`), stop ends
 * it, status gains `last_interval`. Every other member is the api's own.
 */
export function withRecording<T extends NodeApi>(api: T, recorder: NodeRunRecorder): T {
  const mode = api.mode;
  const start = async (req: RecordedStartRequest): Promise<CommandResult> => {
    const { thresholds, ...rest } = req;
    const o = recorder.begin(mode, { ...rest, thresholds });
    try {
      const r = await api.start(rest);
      recorder.started(mode, o);
      return r;
    } catch (e) {
      recorder.failed(o, e);
      throw e;
    }
  };
  const stop = async (...args: Parameters<NodeApi["stop"]>): Promise<CommandResult> => {
    const r = await api.stop(...args);
    // a stop of some nodes only leaves the run going
    if (!args[0]?.nodes && !args[0]?.labels) recorder.finish(mode, r);
    return r;
  };
  const status = async () => ({ ...(await api.status()), last_interval: recorder.lastInterval(mode) });
  // amoc_local.status(): this node's own status (a local recording's intervals are this node's)
  const nodeStatus = async (node: string) => {
    const s = await api.nodeStatus(node);
    return mode === "local" && node === api.nodeName ? { ...s, last_interval: recorder.lastInterval(mode) } : s;
  };
  const own: Record<string, unknown> = { start, stop, status, nodeStatus };
  return new Proxy(api, {
    get(target, p) {
      if (typeof p === "string" && p in own) return own[p];
      const v: unknown = Reflect.get(target, p, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** Both APIs of a console or daemon node with their runs recorded. */
export function recordingApis<T extends { local: NodeApi; dist?: NodeApi }>(node: AmocNode, apis: T): T {
  const r = nodeRunRecorder(node);
  return { ...apis, local: withRecording(apis.local, r), ...(apis.dist ? { dist: withRecording(apis.dist, r) } : {}) };
}
