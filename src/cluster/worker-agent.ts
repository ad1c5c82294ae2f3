/**
 * The worker side of the cluster: serves the master's commands on this node's subject by driving the local
 * controller, records which IDs ended (so a master can re-deal only the unfinished users of a lost node), and
 * joins a run already in progress with zero users.
 */
import type { Controller } from "../controller/controller.js";
import { AmocError, errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import type { Telemetry } from "../telemetry.js";
import { SummaryCollector } from "../results/summary.js";
import type { ClusterBus, KvStore } from "./bus.js";
import { EndedSet, expand, toProgressions, totalSize, type Progression } from "./id-sets.js";
import { Problems, type Problem } from "./problems.js";
import type { Clock } from "../clock.js";
import { RateLimitedLog, screenCommand } from "./command-gate.js";
import { encode, type Command, type FinalRecord, type Reply } from "./protocol.js";
import { scenarioToLoad } from "./scenario-ref.js";
import { RunStore } from "./run-state.js";
import type { Subjects } from "./subjects.js";
import { processSampler } from "../metrics/process-sampler.js";

/** The most IDs one remove_ids command may name (a malformed range must not make a worker expand billions). */
const MAX_REMOVE_IDS = 10_000_000;
/** IDs removed per event-loop turn. */
const REMOVE_BATCH = 2000;

/** Start-time error of this node's users, in ms (the cluster benchmark reads it from status). */
interface LagStats {
  count: number;
  mean: number;
  max: number;
  /** Sample of at most 10,000 lags, for percentiles. */
  sample: number[];
  /** Percentiles of `sample` as last computed, and whether the sample changed since. */
  q: { p50: number; p99: number };
  dirty: boolean;
}

/** How long status may reuse the encoded summary while the run's metrics keep changing (stop's is always fresh). */
const STATUS_SUMMARY_MAX_AGE_MS = 500;

/** Serves commands for one node. */
export class WorkerAgent {
  private runId: string | null = null;
  private ended = new EndedSet();
  private readonly lags: LagStats = { count: 0, mean: 0, max: 0, sample: [], q: { p50: 0, p99: 0 }, dirty: false };
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private offTelemetry: Array<() => void> = [];
  private readonly notOurs: RateLimitedLog;
  /** The deals (start commands) of the current run this node took, by deal ID, with its answer. */
  private readonly deals = new Map<string, { scheduled: unknown }>();
  private summary: SummaryCollector | undefined;
  /** The run `summary` belongs to (it outlives the run: the master merges it from the stop reply). */
  private summaryRun: string | null = null;
  private readonly problems: Problems;

  constructor(
    private readonly d: {
      bus: ClusterBus;
      kv: KvStore;
      subjects: Subjects;
      controller: Controller;
      telemetry: Telemetry;
      log: Logger;
      nodeName: string;
      /** This process's boot ID: commands addressed to another process under this name are not served. */
      boot: string;
      onChange: () => void;
      /** A local file of an uploaded scenario version (fetched by hash, its content checked against it). */
      scenarioFile?: (name: string, version: string) => Promise<string>;
      clock?: Clock;
    },
  ) {
    this.problems = new Problems(d.log);
    this.notOurs = new RateLimitedLog(d.log, d.clock);
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
    this.offTelemetry.push(this.d.telemetry.on("user.started", (e) => this.recordLag(e.lagMs)));
    const flush = setInterval(() => void this.flushEnded(), 1000);
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

  private recordLag(ms: number): void {
    const l = this.lags;
    l.count++;
    l.dirty = true;
    l.mean += (ms - l.mean) / l.count;
    if (ms > l.max) l.max = ms;
    // reservoir sample: percentiles over any number of users in bounded memory
    if (l.sample.length < 10_000) l.sample.push(ms);
    else {
      const j = Math.floor(Math.random() * l.count);
      if (j < 10_000) l.sample[j] = ms;
    }
  }

  private async onCommand(data: string, respond: ((d: string) => void) | undefined): Promise<void> {
    const r = screenCommand(data, { cluster: this.d.subjects.cluster, boot: this.d.boot });
    if (r.act === "ignore") {
      // not for this process: no reply (a stranger or a namesake must not drive it), logged rate-limited
      this.notOurs.warn(`ignored:${r.kind}`, { msg: "command_ignored", from: r.from, reason: r.why });
      return;
    }
    if (r.act === "refuse") {
      this.notOurs.warn("rejected", { msg: "command_rejected", from: r.from, reason: r.reason });
      respond?.(
        this.reply({
          ok: false,
          error: {
            code: "CLUSTER_PROTOCOL",
            message: `rejected: ${r.reason}`,
            hint: "send a valid, versioned command",
          },
        }),
      );
      return;
    }
    const cmd = r.cmd as Command;
    try {
      const result = await this.handle(cmd);
      respond?.(this.reply({ ok: true, result }));
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

  private requireRun(runId: string): void {
    if (this.currentRunId !== runId)
      throw new AmocError(
        "STATE_INVALID",
        `${this.d.nodeName} is not in run ${runId} (it is in ${this.currentRunId ?? "none"})`,
        "prepare the node for the run first",
      );
  }

  private async handle(cmd: Command): Promise<unknown> {
    const c = this.d.controller;
    switch (cmd.type) {
      case "prepare":
        if (this.currentRunId !== cmd.runId) await this.prepare(cmd.runId, cmd.scenario, cmd.settings, cmd.version);
        return { run_id: cmd.runId, state: c.state };
      case "start": {
        this.requireRun(cmd.runId);
        // a master that did not hear the answer asks again with the same deal: answer it, start nothing twice
        const before = cmd.dealId === undefined ? undefined : this.deals.get(cmd.dealId);
        if (before) return { ...before, repeated: true };
        const result = { scheduled: c.startPlans(cmd.plans) };
        if (cmd.dealId !== undefined) this.deals.set(cmd.dealId, result);
        return result;
      }
      case "top_ids": {
        this.requireRun(cmd.runId);
        // compact: a round-robin share is one progression per plan, however many IDs it holds. `ranges` are users
        // not being removed; `escalate` (forced only) those being removed gracefully, which the master picks only
        // when the cluster runs short of the former (a fresh user is never pushed out by a higher graceful one)
        const fresh = c.removableIds(cmd.n, false);
        const escalate = cmd.force && fresh.length < cmd.n ? c.removableIds(cmd.n, true).slice(fresh.length) : [];
        return { count: fresh.length, ranges: toProgressions(fresh), escalate: toProgressions(escalate) };
      }
      case "remove_ids": {
        this.requireRun(cmd.runId);
        const n = totalSize(cmd.ranges);
        if (n > MAX_REMOVE_IDS)
          throw new AmocError(
            "CLUSTER_PROTOCOL",
            `remove_ids names ${n} IDs, more than the ${MAX_REMOVE_IDS} one command may`,
            "remove in several steps",
          );
        return { removed: await this.removeInBatches(cmd.ranges, cmd.force) };
      }
      case "update_settings":
        this.requireRun(cmd.runId);
        return { changed: c.updateSettings(cmd.settings) };
      case "stop": {
        if (this.currentRunId !== cmd.runId) return this.status(true);
        await c.stop();
        await this.flushEnded();
        this.runId = null;
        this.d.onChange();
        return this.status(true);
      }
      case "status":
        return this.status();
    }
  }

  /**
   * Removes the IDs of `ranges` a batch at a time, yielding to the event loop in between: a removal of 100,000
   * users must not starve this node's heartbeats (a node silent for 3 beats is judged dead and re-dealt).
   */
  private async removeInBatches(ranges: Progression[], force: boolean): Promise<number> {
    const c = this.d.controller;
    let removed = 0;
    let batch: number[] = [];
    for (const id of expand(ranges)) {
      batch.push(id);
      if (batch.length < REMOVE_BATCH) continue;
      removed += c.removeIds(batch, force);
      batch = [];
      await new Promise((r) => setImmediate(r));
      if (c.state !== "running") return removed;
    }
    return removed + (batch.length ? c.removeIds(batch, force) : 0);
  }

  private async prepare(
    runId: string,
    scenario: string,
    settings: Record<string, unknown>,
    version?: string,
  ): Promise<void> {
    // a name and version only, never a path: an uploaded version is this node's own copy, checked by its hash
    scenario = await scenarioToLoad(scenario, version, this.d.scenarioFile);
    // a run this node still holds from an earlier master is over: the bucket allows one run at a time
    if (this.d.controller.state === "running") await this.d.controller.stop();
    this.runId = null;
    this.ended = new EndedSet();
    this.deals.clear();
    this.lags.count = this.lags.mean = this.lags.max = 0;
    this.lags.sample = [];
    this.lags.q = { p50: 0, p99: 0 };
    this.lags.dirty = false;
    this.summary?.close();
    this.summary = new SummaryCollector(this.d.telemetry);
    this.summaryRun = runId;
    await this.d.controller.prepare(scenario, settings);
    this.runId = runId;
    this.d.onChange();
  }

  /**
   * This node's status with its run ID, start-time error, problems, and `summary`: the metrics of run
   * `summary_run` so far, encoded for the master to merge (EncodedSummary; absent before the first run).
   */
  status(fresh = false): Record<string, unknown> {
    const s = this.d.controller.status();
    const l = this.lags;
    return {
      ...s,
      run_id: this.currentRunId,
      start_lag_ms: { count: l.count, mean: round(l.mean), ...this.lagPercentiles(), max: round(l.max) },
      problems: this.problemList(),
      health: processSampler().health(),
      summary: this.summary?.exportEncoded(fresh ? 0 : STATUS_SUMMARY_MAX_AGE_MS),
      summary_run: this.summaryRun,
    };
  }

  /** p50 and p99 of the start lags, sorted again only when a lag was recorded since (status is polled). */
  private lagPercentiles(): { p50: number; p99: number } {
    const l = this.lags;
    if (l.dirty) {
      const sorted = Float64Array.from(l.sample).sort();
      const q = (p: number) =>
        sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number) : 0;
      l.q = { p50: round(q(0.5)), p99: round(q(0.99)) };
      l.dirty = false;
    }
    return l.q;
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

  private async flushEnded(): Promise<void> {
    const runId = this.runId;
    if (!runId || !this.ended.changed) return;
    this.ended.changed = false;
    try {
      await this.d.kv.put(this.d.subjects.endedKey(runId, this.d.nodeName), JSON.stringify(this.ended.toJSON()));
    } catch (e) {
      this.ended.changed = true;
      this.problems.note(
        "ended_flush_failed",
        errorMessage(e),
        "if this node dies now, a master may re-deal users that already ended here",
      );
    }
  }

  /**
   * Leaving normally: this node stops its own users (a master must not re-deal them), records what ended, and
   * leaves its final counts and metrics of the run in the bucket for the master's stop (and status) to include.
   */
  async leave(): Promise<void> {
    const runId = this.currentRunId;
    if (this.d.controller.state === "running") {
      try {
        await this.d.controller.stop();
      } catch (e) {
        this.d.log.warn({ msg: "leave_stop_failed", err: errorMessage(e) });
      }
    }
    await this.flushEnded();
    if (runId) await this.recordFinal(runId);
    this.stop();
  }

  private async recordFinal(runId: string): Promise<void> {
    const rec: FinalRecord = {
      v: 1,
      runId,
      users: { ...this.d.controller.status().users },
      summary: this.summaryRun === runId ? this.summary?.exportEncoded() : undefined,
    };
    try {
      await this.d.kv.put(this.d.subjects.finalKey(runId, this.d.nodeName), JSON.stringify(rec));
    } catch (e) {
      this.d.log.warn({
        msg: "final_record_failed",
        run: runId,
        err: errorMessage(e),
        affects: "the run's totals and metrics leave out this node's users",
      });
    }
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.unsubscribe?.();
    for (const off of this.offTelemetry) off();
    this.offTelemetry = [];
    this.summary?.close();
  }
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
