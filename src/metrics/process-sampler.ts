/**
 * This process's health: event-loop lag (p99 and max of the window), CPU (% of one core), heap, RSS and open file
 * descriptors. One sampler per process (`processSampler()`), read by the StatsD gauges, the dashboard and a worker's
 * status alike, so every view shows the same figures for the same window; cheap enough to read once a second.
 */
import { readdir } from "node:fs";
import { hostname } from "node:os";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

/** The event-loop delay histogram ticks this often; its own period is subtracted from the delays it records. */
const RESOLUTION_MS = 10;
/**
 * A window shorter than this is not sampled again: readers a second apart (the gauges, the dashboard, a master's
 * status request) get the latest sample instead of each cutting the window short for the others.
 */
const MIN_WINDOW_MS = 500;

/** One sample; the lags and the CPU cover the window since the previous sample. */
export interface ProcessSample {
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
  /** CPU time (user + system) as % of one core. */
  cpuPct: number;
  heapUsedBytes: number;
  rssBytes: number;
  /** Undefined where /proc is missing (or before the first count). */
  openFds: number | undefined;
}

/** A sample as the dashboard shows it per node and a worker's status carries it. */
export interface ProcessHealth {
  /** Event-loop delay p99 and max of the window, ms. */
  loop_lag_p99_ms: number;
  loop_lag_max_ms: number;
  /** CPU time (user + system) of the window as % of one core. */
  cpu_pct: number;
  rss_mb: number;
  /** Open file descriptors (null where /proc is not there). */
  open_files: number | null;
  /**
   * Which process sampled it (`host:pid`): a page showing two rows of one process (a master serving the API beside
   * a worker in the same process) shows that process's one sample in both, never two windows of it.
   */
  process?: string;
}

/** This process as `ProcessHealth.process` names it. */
export const THIS_PROCESS = `${hostname()}:${process.pid}`;

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Keeps an event-loop delay histogram running between samples. */
export class ProcessSampler {
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  private last: ProcessSample | undefined;
  private fds: number | undefined;
  private countingFds = false;

  constructor() {
    this.loop.enable();
    this.countFds();
  }

  /** The figures of the window since the previous sample (the latest one if that is too recent). Never blocks. */
  sample(): ProcessSample {
    const now = performance.now();
    if (this.last && now - this.lastAt < MIN_WINDOW_MS) return this.last;
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedMs = now - this.lastAt;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const lag = (ns: number) => (this.loop.count > 0 ? Math.max(0, round(ns / 1e6 - RESOLUTION_MS, 2)) : 0);
    const p99 = lag(this.loop.percentile(99));
    const max = lag(this.loop.max);
    this.loop.reset();
    const mem = process.memoryUsage();
    this.countFds();
    this.last = {
      eventLoopLagP99Ms: p99,
      eventLoopLagMaxMs: max,
      cpuPct: elapsedMs > 0 ? round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 100) : 0,
      heapUsedBytes: mem.heapUsed,
      rssBytes: mem.rss,
      openFds: this.fds,
    };
    return this.last;
  }

  /** The latest figures as the dashboard shows them. */
  health(): ProcessHealth {
    const s = this.sample();
    return {
      loop_lag_p99_ms: round(s.eventLoopLagP99Ms),
      loop_lag_max_ms: round(s.eventLoopLagMaxMs),
      cpu_pct: s.cpuPct,
      rss_mb: round(s.rssBytes / 1048576),
      open_files: s.openFds ?? null,
      process: THIS_PROCESS,
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

let shared: ProcessSampler | undefined;

/** The process's one sampler (started on first use, never closed: it lives as long as the process). */
export function processSampler(): ProcessSampler {
  return (shared ??= new ProcessSampler());
}
