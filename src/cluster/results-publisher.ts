/**
 * The worker side of a run's time series: while this node is in a run, an `IntervalAggregator` turns its telemetry
 * into one encoded interval per `results_interval` (~2 KB) and publishes it on the run's results subject; when the
 * run ends here (stop, leave), the last partial interval is flushed and published marked `final`, before the agent
 * replies to the stop (worker/agent.ts syncs this publisher first): the master's stop waits for that interval.
 */
import { errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import { IntervalAggregator } from "../results/aggregator.js";
import { encodeInterval, type EncodedInterval } from "../results/interval.js";
import type { Telemetry } from "../telemetry.js";
import type { ClusterBus } from "./bus.js";
import { encodeResults } from "./protocol.js";
import type { Subjects } from "./subjects.js";

/** What the publisher needs. */
export interface ResultsPublisherDeps {
  bus: Pick<ClusterBus, "publish">;
  subjects: Subjects;
  telemetry: Telemetry;
  nodeName: string;
  intervalMs: number;
  /** The run this node is in now (null: none). */
  currentRunId: () => string | null;
  log?: Logger;
  /** This process's health gauges, added to each interval it publishes (cluster/worker-health.ts). */
  health?: () => Record<string, number>;
}

/** Publishes this node's intervals of the run it is in; `sync()` after every change of run. */
export class ResultsPublisher {
  private runId: string | null = null;
  private agg: IntervalAggregator | undefined;
  private failures = 0;
  /** While the aggregator closes: the intervals it flushes, the last of which is the run's final one. */
  private closing: EncodedInterval[] | undefined;
  /** The run whose final interval was published last (null: none yet). */
  lastEnded: string | null = null;

  constructor(private readonly d: ResultsPublisherDeps) {}

  /** Starts aggregating when the node entered a run, flushes and stops when it left it (idempotent). */
  sync(): void {
    const now = this.d.currentRunId();
    if (now === this.runId) return;
    this.end();
    if (now === null) return;
    this.runId = now;
    this.agg = new IntervalAggregator({
      telemetry: this.d.telemetry,
      node: this.d.nodeName,
      intervalMs: this.d.intervalMs,
      onInterval: (i) => {
        if (this.closing) this.closing.push(i);
        else this.publish(now, i, false);
      },
    });
  }

  private publish(runId: string, interval: EncodedInterval, final: boolean): void {
    let i = interval;
    try {
      if (this.d.health) i = { ...i, g: { ...i.g, ...this.d.health() } };
    } catch {
      // a process out of fds cannot even read its limits: the interval goes without its health
    }
    try {
      this.d.bus.publish(
        this.d.subjects.results(runId),
        encodeResults(this.d.nodeName, runId, encodeInterval(i), final),
      );
    } catch (e) {
      // a closed connection: the master keeps the intervals it has; logged once per run
      if (this.failures++ === 0)
        this.d.log?.warn({
          msg: "results_publish_failed",
          run: runId,
          err: errorMessage(e),
          affects: "the run's time series lacks this node's later intervals",
        });
    }
  }

  /** Flushes the elapsed and the current partial interval, the last marked final, and stops aggregating. */
  private end(): void {
    const runId = this.runId;
    if (this.agg && runId !== null) {
      this.closing = [];
      this.agg.close();
      const out = this.closing;
      this.closing = undefined;
      out.forEach((i, k) => this.publish(runId, i, k === out.length - 1));
      this.lastEnded = runId;
    }
    this.agg = undefined;
    this.runId = null;
    this.failures = 0;
  }

  /** Flushes and stops (the node leaves the cluster). */
  close(): void {
    this.end();
  }
}
