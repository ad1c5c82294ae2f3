/**
 * The worker side of the cluster: serves the master's commands on this node's subject by driving the local
 * controller (worker/commands.ts), keeps what the master needs in the bucket (worker/final-record.ts), publishes
 * the run's results intervals through its ResultsPublisher, and joins a run already in progress with zero users.
 */
import type { Clock } from "../../clock.js";
import type { Controller } from "../../controller/controller.js";
import { AmocError, errorMessage } from "../../errors.js";
import type { Logger } from "../../log.js";
import { processSampler } from "../../metrics/process-sampler.js";
import { RateLimitedLog } from "../../metrics/rate-limited-log.js";
import type { Telemetry } from "../../telemetry.js";
import type { ClusterBus, KvStore } from "../bus.js";
import { screenCommand } from "../command-gate.js";
import { Problems, type Problem } from "../problems.js";
import { encode, type Reply, type ReplyOf, type WorkerStatus } from "../protocol.js";
import { RunStore } from "../run-state.js";
import { scenarioToLoad } from "../scenario-ref.js";
import type { Subjects } from "../subjects.js";
import { serveCommand, type CommandTarget } from "./commands.js";
import { EndedIds, recordFinal } from "./final-record.js";
import { StartLags } from "./start-lag.js";

/** The part of the results publisher (cluster/results-publisher.ts) the agent drives. */
export interface RunResults {
  /** Follows the agent's current run: starts its intervals, or flushes and publishes the final one. */
  sync(): void;
  /** The run whose final interval was published last (null: none yet). */
  readonly lastEnded: string | null;
}

/** What the agent needs. */
export interface WorkerAgentDeps {
  bus: ClusterBus;
  kv: KvStore;
  subjects: Subjects;
  controller: Controller;
  telemetry: Telemetry;
  log: Logger;
  nodeName: string;
  /** This process's boot ID: commands addressed to another process under this name are not served. */
  boot: string;
  /** Called after this node entered or left a run (the heartbeat tells the cluster at once). */
  onChange: () => void;
  /** Publishes the run's results intervals; synced before onChange, so a stop's final interval precedes its reply. */
  results?: RunResults;
  /** A local file of an uploaded scenario version (fetched by hash, its content checked against it). */
  scenarioFile?: (name: string, version: string) => Promise<string>;
  clock?: Clock;
}

/** Serves commands for one node. */
export class WorkerAgent implements CommandTarget {
  private runId: string | null = null;
  private readonly ended: EndedIds;
  private readonly lags = new StartLags();
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private offTelemetry: Array<() => void> = [];
  private readonly notOurs: RateLimitedLog;
  readonly deals = new Map<string, ReplyOf["start"]>();
  private readonly problems: Problems;

  constructor(private readonly d: WorkerAgentDeps) {
    this.problems = new Problems(d.log);
    this.notOurs = new RateLimitedLog(d.log, "command_ignored", 60_000, d.clock);
    this.ended = new EndedIds({ ...d, problems: this.problems });
  }

  get controller(): Controller {
    return this.d.controller;
  }

  get nodeName(): string {
    return this.d.nodeName;
  }

  get currentRunId(): string | null {
    return this.d.controller.state === "running" ? this.runId : null;
  }

  /** Starts serving; joins a run in progress if the bucket holds one. */
  async start(): Promise<void> {
    this.unsubscribe = this.d.bus.subscribe(
      this.d.subjects.command(this.d.nodeName),
      (data, respond) => void this.onCommand(data, respond),
    );
    this.offTelemetry.push(this.d.telemetry.on("user.stopped", (e) => this.ended.add(e.id)));
    this.offTelemetry.push(this.d.telemetry.on("user.started", (e) => this.lags.record(e.lagMs)));
    const flush = setInterval(() => void this.ended.flush(this.runId), 1000);
    flush.unref();
    this.timers.push(flush);
    await this.d.bus.flush();
    await this.joinRunInProgress();
  }

  private async joinRunInProgress(): Promise<void> {
    let cur;
    try {
      cur = await new RunStore(this.d.kv, this.d.subjects.runKey()).read();
    } catch (e) {
      this.problems.note(
        "join_run_read_failed",
        errorMessage(e),
        "this node cannot tell whether a run is in progress: it joins none now, and a master prepares it on its next add",
      );
      return;
    }
    if (!cur || cur.run.state !== "running") return;
    try {
      await this.prepare(cur.run.runId, cur.run.scenario, cur.run.settings, cur.run.version);
      this.d.controller.noteIssued(cur.run.lastId);
      this.d.log.info({ msg: "joined_run_in_progress", run: cur.run.runId, scenario: cur.run.scenario });
    } catch (e) {
      this.problems.note(
        "join_run_failed",
        `run ${cur.run.runId}: ${errorMessage(e)}`,
        "this node runs none of the run's users; a master prepares it again on its next add",
      );
    }
  }

  private async onCommand(data: string, respond: ((d: string) => void) | undefined): Promise<void> {
    const r = screenCommand(data, { cluster: this.d.subjects.cluster, boot: this.d.boot });
    if (r.act === "ignore") {
      // not for this process: no reply (a stranger or a namesake must not drive it), logged rate-limited
      this.notOurs.warnKind(`ignored:${r.kind}`, { from: r.from, reason: r.why });
      return;
    }
    if (r.act === "refuse") {
      this.notOurs.warnKind("rejected", { msg: "command_rejected", from: r.from, reason: r.reason });
      const error = {
        code: "CLUSTER_PROTOCOL",
        message: `rejected: ${r.reason}`,
        hint: "send a valid, versioned command",
      };
      respond?.(this.reply({ ok: false, error }));
      return;
    }
    const cmd = r.cmd;
    try {
      respond?.(this.reply({ ok: true, result: await serveCommand(this, cmd) }));
    } catch (e) {
      const err =
        e instanceof AmocError
          ? e.toJSON()
          : { code: "CLUSTER_NODE_FAILED", message: errorMessage(e), hint: "see the node's log" };
      this.d.log.warn({ msg: "command_failed", type: cmd.type, from: cmd.from, err: err.message });
      respond?.(this.reply({ ok: false, error: err }));
    }
  }

  private reply(
    body: { ok: true; result: unknown } | { ok: false; error: { code: string; message: string; hint: string } },
  ): string {
    return encode({ v: 1, type: "reply", from: this.d.nodeName, ...body } as Reply);
  }

  /** Enters run `runId` with zero users (a run this node still holds is stopped first). */
  async prepare(runId: string, scenario: string, settings: Record<string, unknown>, version?: string): Promise<void> {
    const name = scenario;
    // a name and version only, never a path: an uploaded version is this node's own copy, checked by its hash
    scenario = await scenarioToLoad(scenario, version, this.d.scenarioFile);
    // a run this node still holds from an earlier master is over: the bucket allows one run at a time
    if (this.d.controller.state === "running") await this.d.controller.stop();
    this.runId = null;
    this.changed();
    this.ended.reset();
    this.deals.clear();
    this.lags.reset();
    await this.d.controller.prepare(scenario, settings);
    this.runId = runId;
    this.d.telemetry.emit("run.joined", { run_id: runId, scenario: name });
    this.changed();
  }

  async stopRun(runId: string): Promise<boolean> {
    await this.d.controller.stop();
    await this.ended.flush(this.runId);
    this.runId = null;
    this.changed();
    return this.d.results?.lastEnded === runId;
  }

  /** The run changed: the results publisher follows it (a run's final interval goes out here), then the heartbeat. */
  private changed(): void {
    this.d.results?.sync();
    this.d.onChange();
  }

  /** This node's status: its controller's counts, its run, start-time error, problems and process health. */
  status(): WorkerStatus {
    return {
      ...this.d.controller.status(),
      run_id: this.currentRunId,
      start_lag_ms: this.lags.stats(),
      problems: this.problemList(),
      health: processSampler().health(),
    };
  }

  /** This node's problems, its bus's subscription errors included. */
  problemList(): Problem[] {
    const bus = this.d.bus.problems().map((p) => ({
      kind: "nats_subscription_error",
      message: `${p.subject}: ${p.error}`,
      affects: "messages on this subject are lost",
      count: p.count,
    }));
    return [...this.problems.list(), ...bus];
  }

  /**
   * Leaving normally: this node stops its own users (a master must not re-deal them), records what ended, publishes
   * its final interval, and leaves its final counts of the run in the bucket for the master's stop and status.
   */
  async leave(): Promise<void> {
    // the run this node took part in, even when the node's shutdown already stopped the controller
    const runId = this.runId;
    if (this.d.controller.state === "running") {
      try {
        await this.d.controller.stop();
      } catch (e) {
        this.d.log.warn({ msg: "leave_stop_failed", err: errorMessage(e) });
      }
    }
    await this.ended.flush(this.runId);
    this.runId = null;
    this.d.results?.sync();
    if (runId) await recordFinal(this.d, runId, this.d.controller.status().users);
    this.stop();
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.unsubscribe?.();
    for (const off of this.offTelemetry) off();
    this.offTelemetry = [];
  }
}
