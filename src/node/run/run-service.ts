/**
 * The one owner of a run, from request to record, in one order: validate the request, resolve the scenario version
 * (built-in or uploaded), open the run record, start the users, collect intervals, evaluate thresholds, close the
 * record. Every front end reaches it through the Node API, so every run is in the node's run store with its verdict
 * in the stop reply. A refused start records nothing and leaves the node or cluster as it was.
 */
import { errorMessage, UsageError } from "../../errors.js";
import type { Logger } from "../../log.js";
import { recordRun, type LastInterval, type RunRecording } from "../../results/recorder.js";
import type { RunStore } from "../../results/store.js";
import type { Threshold } from "../../results/thresholds.js";
import type { Telemetry } from "../../telemetry.js";
import type {
  ApiStatus,
  CommandResult,
  RunEnd,
  StartRequest,
  StartResult,
  StopOptions,
  StopResult,
  WatchEvent,
} from "../node-api.js";
import type { ScenarioCatalog } from "../scenarios/catalog.js";
import type { SutPlan } from "../../sut/plan.js";
import type { EngineStart, RunEngine } from "./engine.js";
import { startRange } from "./start-range.js";
import { closeRecord, type OpenRun } from "./run-end.js";
import { noteNodes, noteRedeal } from "./summary.js";
import { runThresholds } from "./thresholds.js";

/** What the run service is built from. */
export interface RunServiceDeps {
  engine: RunEngine;
  catalog: ScenarioCatalog;
  /** The node's telemetry: a local run's measurements, a cluster's run events. */
  telemetry?: Telemetry;
  /** The node's run store (`<data dir>/runs.sqlite`). */
  storePath: string;
  intervalMs: number;
  log: Logger;
  /** The config file's thresholds, judged with every run's own. */
  fileThresholds?: Threshold[];
  /** The server under test to sample into every run (AMOC_SUT_*; src/sut/), if any. */
  sut?: SutPlan;
  /** Tests: the clock, manual interval ticks, another store. */
  now?: () => number;
  manualTicks?: boolean;
  openStore?: (path: string) => RunStore;
}

/** See the file comment. */
export class RunService {
  private current: OpenRun | undefined;
  private ending: Promise<StopResult> | undefined;
  private readonly listeners = new Set<(e: WatchEvent) => void>();

  constructor(private readonly d: RunServiceDeps) {}

  private now(): number {
    return (this.d.now ?? Date.now)();
  }

  /** Validates, resolves, records and starts a run; refused (nothing recorded, nothing changed) with an AmocError. */
  async start(req: StartRequest): Promise<StartResult> {
    const { from, to } = startRange(req);
    const thresholds = runThresholds(this.d.fileThresholds ?? [], req.thresholds, req.abortOnFail);
    if (req.settings !== undefined && (typeof req.settings !== "object" || req.settings === null))
      throw new UsageError("settings must be an object", "e.g. {interarrival: 0}");
    const engine = this.d.engine;
    const scenario = await this.d.catalog.resolve(req.scenario, engine.mode === "local");
    const settings = { ...req.settings };
    const es: EngineStart = { scenario, from, to, settings, comment: req.comment };
    if (req.nodes !== undefined) es.nodes = req.nodes;
    if (req.labels !== undefined) es.labels = req.labels;
    await engine.check(es);
    // the server's process is looked up now: one that cannot be found refuses the run before anything is recorded
    const sut = this.d.sut?.prepare(this.d.intervalMs);
    const startedAt = this.now();
    let open: OpenRun | undefined;
    const rec = recordRun({
      telemetry: this.d.telemetry,
      localIntervals: engine.localIntervals,
      node: engine.nodeName,
      storePath: this.d.storePath,
      intervalMs: this.d.intervalMs,
      scenario: scenario.name,
      sourceHash: scenario.version,
      settings,
      users: to - from + 1,
      thresholds,
      abortOnFail: req.abortOnFail === true,
      onAbort: () => open && this.abort(open),
      reportPath: req.reportPath,
      junitPath: req.junitPath,
      onInterval: (interval) => this.tell({ type: "interval", interval }),
      onEvent: (event) => {
        if (open) this.noteEvent(open, event.kind, event.data);
        this.tell({ type: "event", event });
      },
      log: this.d.log,
      now: this.d.now,
      manualTicks: this.d.manualTicks,
      openStore: this.d.openStore,
    });
    const unfollow = engine.follow(rec);
    // sampled from before the first login, so the server's idle figures are the baseline of the run's charts
    sut?.start({
      addSut: (sample) => {
        rec.addSut(sample);
        this.tell({ type: "sut", sample });
      },
    });
    let r: CommandResult;
    try {
      r = await engine.start(es);
    } catch (e) {
      sut?.stop();
      unfollow();
      this.discard(rec, scenario.name, e);
      throw e;
    }
    open = {
      rec,
      stopFollowing: unfollow,
      scenario: scenario.name,
      version: scenario.version,
      settings,
      startedAt,
      seen: new Map(),
      problems: [],
      allowCrashes: req.allowCrashes === true,
      aborted: false,
    };
    if (sut) open.sut = sut;
    // the previous run ended without a stop (its users finished and it was never stopped, or another master's);
    // only a start that succeeded ends it: a refused one changes nothing
    if (this.current) this.finish(this.current, undefined, {});
    this.current = open;
    this.noteStart(open, r);
    const out: StartResult = { ...r, run_id: rec.runId, scenario: scenario.name };
    if (typeof r.run_id === "string") out.cluster_run_id = r.run_id;
    if (scenario.version) out.version = scenario.version;
    return out;
  }

  /** Who got users, who failed to, and users no node took: a run that cannot run them all fails. */
  private noteStart(o: OpenRun, r: CommandResult): void {
    for (const [name, n] of Object.entries(r.nodes)) {
      if (n.ok) noteNodes(o.seen, { [name]: n });
      else
        o.problems.push({
          node: name,
          kind: "node_start_failed",
          message: `node ${name} failed to start its share of the users: ${n.error}`,
        });
    }
    if (typeof r.undealt === "number" && r.undealt > 0)
      o.problems.push({
        kind: "users_undealt",
        message: `${r.undealt} users were dealt to no node: no worker accepted them`,
      });
  }

  /** A node lost mid-run (the master's node_down event): marked lost, with where its users went. */
  private noteEvent(o: OpenRun, kind: string, data: Record<string, unknown>): void {
    if (kind !== "node_down" || typeof data.node !== "string") return;
    const to = Array.isArray(data.to) ? data.to.filter((x): x is string => typeof x === "string") : [];
    const redealt = typeof data.redealt === "number" ? data.redealt : 0;
    // a worker the run never used going down is no part of the run
    if (!o.seen.has(data.node) && redealt === 0) return;
    noteRedeal(o.seen, data.node, redealt, to);
  }

  private discard(rec: RunRecording, scenario: string, e: unknown): void {
    try {
      rec.discard();
      this.d.log.info({ msg: "run_start_refused", scenario, err: errorMessage(e) });
    } catch (err) {
      this.d.log.warn({
        msg: "run_record_failed",
        err: errorMessage(err),
        affects: "the run store may keep an empty run for this refused start",
      });
    }
  }

  /** The engine's status, with what it says about the run's nodes noted and the last merged interval. */
  async status(): Promise<ApiStatus> {
    const s = await this.d.engine.status();
    const o = this.current;
    if (o) {
      const lost = (s.run as { lost_nodes?: unknown } | null)?.lost_nodes;
      noteNodes(o.seen, s.nodes, Array.isArray(lost) ? (lost as string[]) : [], "active");
      if (s.run && s.run.run_id === null) s.run = { ...s.run, run_id: o.rec.runId };
      // the version every node runs (local mode: the controller knows only the file)
      if (s.run && !s.run.version && o.version) s.run = { ...s.run, version: o.version };
    }
    return { ...s, last_interval: this.lastInterval() };
  }

  lastInterval(): LastInterval | null {
    return this.current?.rec.lastInterval() ?? null;
  }

  /** Stops the run: of some nodes only (the run goes on), or the whole run, which ends its record (`run`). */
  async stop(opts: StopOptions = {}): Promise<StopResult> {
    const { signal, problems, ...engineOpts } = opts;
    if (opts.nodes !== undefined || opts.labels !== undefined) return this.d.engine.stop(engineOpts);
    if (this.ending) return this.ending;
    this.ending = (async () => {
      const r = await this.d.engine.stop(engineOpts);
      const o = this.current;
      return o ? { ...r, run: this.finish(o, r, { signal, problems }) } : r;
    })();
    try {
      return await this.ending;
    } finally {
      this.ending = undefined;
    }
  }

  /** A threshold breached with abort-on-fail: the run stops itself; its end reaches watchers. */
  private abort(o: OpenRun): void {
    o.aborted = true;
    void this.stop().catch((e) => this.d.log.warn({ msg: "run_abort_failed", err: errorMessage(e) }));
  }

  /** Ends the run's record with the stop result (undefined: ended without one, e.g. the node closes). */
  private finish(
    o: OpenRun,
    stopped: CommandResult | undefined,
    why: Pick<StopOptions, "signal" | "problems">,
  ): RunEnd {
    if (this.current === o) this.current = undefined;
    o.stopFollowing();
    const run = closeRecord(o, stopped, why, {
      perNode: this.d.engine.mode === "dist",
      now: () => this.now(),
      log: this.d.log,
    });
    this.tell({ type: "end", run });
    return run;
  }

  /** Resolves when the run has no user left to run. */
  whenNoUsers(): Promise<void> {
    return this.d.engine.whenNoUsers();
  }

  /** Intervals, events and ends of this node's runs as they happen; returns the unsubscribe. */
  watch(listener: (e: WatchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private tell(e: WatchEvent): void {
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch (err) {
        this.d.log.warn({ msg: "run_watcher_failed", err: errorMessage(err) });
      }
    }
  }

  /** The node closes: a run still recorded ends without a stop. */
  close(): void {
    if (this.current) this.finish(this.current, undefined, {});
  }
}
