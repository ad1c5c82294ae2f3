/**
 * The worker side of a run's time series: while this node is in a run, an `IntervalAggregator` turns its telemetry
 * into one encoded interval per `results_interval` (~2 KB) and publishes it on the run's results subject; when the
 * run ends here (stop, leave), the last partial interval is flushed before the stop reply goes out.
 */
import { errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import { IntervalAggregator } from "../results/aggregator.js";
import { encodeInterval } from "../results/interval.js";
import type { Telemetry } from "../telemetry.js";
import type { ClusterBus } from "./bus.js";
import { encodeResultsMessage } from "./results-feed.js";
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
}

/** Publishes this node's intervals of the run it is in; `sync()` after every change of run. */
export class ResultsPublisher {
  private runId: string | null = null;
  private agg: IntervalAggregator | undefined;
  private failures = 0;

  constructor(private readonly d: ResultsPublisherDeps) {}

  /** Starts aggregating when the node entered a run, flushes and stops when it left it (idempotent). */
  sync(): void {
    const now = this.d.currentRunId();
    if (now === this.runId) return;
    this.end();
    if (now === null) return;
    this.runId = now;
    const subject = this.d.subjects.results(now);
    this.agg = new IntervalAggregator({
      telemetry: this.d.telemetry,
      node: this.d.nodeName,
      intervalMs: this.d.intervalMs,
      onInterval: (i) => this.publish(subject, encodeResultsMessage(now, encodeInterval(i))),
    });
  }

  private publish(subject: string, data: string): void {
    try {
      this.d.bus.publish(subject, data);
    } catch (e) {
      // a closed connection: the master keeps the intervals it has; logged once per run
      if (this.failures++ === 0)
        this.d.log?.warn({
          msg: "results_publish_failed",
          run: this.runId,
          err: errorMessage(e),
          affects: "the run's time series lacks this node's later intervals",
        });
    }
  }

  /** Flushes the current partial interval and stops aggregating. */
  private end(): void {
    this.agg?.close();
    this.agg = undefined;
    this.runId = null;
    this.failures = 0;
  }

  /** Flushes and stops (the node leaves the cluster). */
  close(): void {
    this.end();
  }
}
