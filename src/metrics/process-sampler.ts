/** Samples this process's health once per call: event-loop lag p99 since the last call, heap, RSS, open fds. */
import { readdir } from "node:fs";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

/** The event-loop delay histogram ticks this often; its own period is subtracted from the delays it records. */
const RESOLUTION_MS = 10;

/** One sample. */
export interface ProcessSample {
  eventLoopLagP99Ms: number;
  heapUsedBytes: number;
  rssBytes: number;
  /** Undefined where /proc is missing. */
  openFds: number | undefined;
}

/** Keeps an event-loop delay histogram running between samples. */
export class ProcessSampler {
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private fds: number | undefined;
  private countingFds = false;

  constructor() {
    this.loop.enable();
    this.countFds();
  }

  /** The figures now; the lag covers the time since the previous sample. Never blocks on the file system. */
  sample(): ProcessSample {
    const p99Ns = this.loop.count > 0 ? this.loop.percentile(99) : 0;
    this.loop.reset();
    const mem = process.memoryUsage();
    this.countFds();
    return {
      eventLoopLagP99Ms: Math.max(0, Math.round((p99Ns / 1e6 - RESOLUTION_MS) * 100) / 100),
      heapUsedBytes: mem.heapUsed,
      rssBytes: mem.rss,
      openFds: this.fds,
    };
  }

  /** Counts /proc/self/fd asynchronously: with 20,000 sockets a synchronous read would stall the loop it measures. */
  private countFds(): void {
    if (this.countingFds || process.platform !== "linux") return;
    this.countingFds = true;
    readdir("/proc/self/fd", (err, names) => {
      this.countingFds = false;
      // the directory handle readdir itself holds is one of the entries
      this.fds = err ? undefined : Math.max(0, names.length - 1);
    });
  }

  close(): void {
    this.loop.disable();
  }
}
