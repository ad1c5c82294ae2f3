/**
 * Samples every source of the server under test once per results interval, from the run's start to its end, and hands
 * each sampling to the run's recording. A source that fails is named in that sampling's `errors` (counted as
 * sut.scrape_errors, shown in the report) and logged rate-limited; it never stops the run or the other sources.
 */
import type { Clock } from "../clock.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import { RateLimitedLog } from "../metrics/rate-limited-log.js";
import type { SutSample } from "../results/sut-series.js";
import type { SutSource } from "./source.js";

/** Where samplings go: the run's recording (results/recording.ts `addSut`). */
export interface SutSink {
  addSut(s: SutSample): void;
}

/** One run's sampling; see the file comment. */
export class SutSampler {
  private timer: ReturnType<Clock["setInterval"]> | undefined;
  private first: ReturnType<Clock["setTimeout"]> | undefined;
  private sink: SutSink | undefined;
  private busy = false;
  private readonly warn: RateLimitedLog | undefined;

  constructor(
    readonly sources: readonly SutSource[],
    private readonly clock: Clock,
    private readonly intervalMs: number,
    log?: Logger,
  ) {
    this.warn = log ? new RateLimitedLog(log, "sut_sample_failed", 10_000, clock) : undefined;
  }

  /** Samples at once (the baseline of CPU and counter rates) and then every interval, into `sink`, until `stop`. */
  start(sink: SutSink): void {
    this.sink = sink;
    void this.tick();
    // then on the results intervals' boundaries (multiples of the interval, as results/aggregator.ts cuts them), so
    // a sampling meets the interval that ends with it: the sessions check compares counts of the same instant
    const ms = this.intervalMs;
    const wait = ms - (this.clock.now() % ms);
    this.first = this.clock.setTimeout(
      () => {
        void this.tick();
        this.timer = this.clock.setInterval(() => void this.tick(), ms, { unref: true });
      },
      wait,
      { unref: true },
    );
  }

  /** No more samplings; one still in flight is dropped (the run's record may already be closed). */
  stop(): void {
    this.clock.clearTimeout(this.first);
    this.clock.clearInterval(this.timer);
    this.timer = undefined;
    this.sink = undefined;
  }

  /** One sampling of every source, in parallel. */
  async sampleOnce(): Promise<SutSample> {
    const t = this.clock.now();
    const results = await Promise.allSettled(this.sources.map((s) => s.sample()));
    const values: Record<string, number> = {};
    const errors: Record<string, string> = {};
    // summed sources first, then the ones that replace (a process measured in /proc beats a scraped copy)
    const order = this.sources.map((s, i) => ({ s, r: results[i] as PromiseSettledResult<Record<string, number>> }));
    order.sort((a, b) => (a.s.merge === b.s.merge ? 0 : a.s.merge === "sum" ? -1 : 1));
    for (const { s, r } of order) {
      if (r.status === "rejected") {
        errors[s.name] = errorMessage(r.reason);
        this.warn?.warnKind(s.name, { source: s.name, err: errors[s.name] });
        continue;
      }
      for (const [k, v] of Object.entries(r.value)) values[k] = s.merge === "sum" ? (values[k] ?? 0) + v : v;
    }
    return Object.keys(errors).length ? { t, values, errors } : { t, values };
  }

  private async tick(): Promise<void> {
    // a slow source (up to its timeout) must not pile samplings up
    if (this.busy || !this.sink) return;
    this.busy = true;
    try {
      const s = await this.sampleOnce();
      this.sink?.addSut(s);
    } finally {
      this.busy = false;
    }
  }
}
