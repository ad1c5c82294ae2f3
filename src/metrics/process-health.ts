/**
 * This process's health as the dashboard shows it per node: event-loop lag (p99 and max of the last sample
 * window), CPU (% of one core since the last sample), RSS and open file descriptors. Cheap enough to sample
 * once a second; one sampler per process.
 */
import { readdirSync } from "node:fs";
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

/** One sample of a process's health. */
export interface ProcessHealth {
  /** Event-loop delay p99 and max since the previous sample, ms. */
  loop_lag_p99_ms: number;
  loop_lag_max_ms: number;
  /** CPU time (user + system) since the previous sample as % of one core. */
  cpu_pct: number;
  rss_mb: number;
  /** Open file descriptors (null where /proc is not there). */
  open_files: number | null;
}

/** Node 20 records the whole timer interval: the lag is what exceeds it. */
const RESOLUTION_MS = 20;

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Samples health; each `sample()` covers the time since the previous one. */
export class HealthSampler {
  private readonly loop: IntervalHistogram;
  private lastCpu = process.cpuUsage();
  private lastAt = process.hrtime.bigint();

  constructor() {
    this.loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.loop.enable();
  }

  sample(): ProcessHealth {
    const now = process.hrtime.bigint();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedUs = Number(now - this.lastAt) / 1000;
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const lag = (ns: number) => (this.loop.count ? Math.max(0, ns / 1e6 - RESOLUTION_MS) : 0);
    const p99 = lag(this.loop.percentile(99));
    const max = lag(this.loop.max);
    this.loop.reset();
    return {
      loop_lag_p99_ms: round(p99),
      loop_lag_max_ms: round(max),
      cpu_pct: elapsedUs > 0 ? round(((cpu.user + cpu.system) / elapsedUs) * 100) : 0,
      rss_mb: round(process.memoryUsage.rss() / 1048576),
      open_files: openFiles(),
    };
  }

  close(): void {
    this.loop.disable();
  }
}

function openFiles(): number | null {
  try {
    return readdirSync("/proc/self/fd").length;
  } catch {
    return null;
  }
}

let shared: HealthSampler | undefined;

/** The process's one sampler (started on first use). */
export function processHealth(): HealthSampler {
  return (shared ??= new HealthSampler());
}
