/** What the in-process benchmarks share: waiting for a condition, and this process's CPU and stall over a window. */
import { monitorEventLoopDelay } from "node:perf_hooks";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` every 50 ms; throws after `timeoutMs`, saying what it waited for. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** This process's CPU ms and longest event-loop stall over `ms`, while `work` (if any) runs. */
export async function cpuWindow(
  ms: number,
  work: () => Promise<void> = async () => {},
): Promise<{ cpuMs: number; stallMs: number; elapsedMs: number }> {
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all([sleep(ms), work()]);
  const d = process.cpuUsage(c0);
  lag.disable();
  return { cpuMs: (d.user + d.system) / 1000, stallMs: lag.max / 1e6, elapsedMs: performance.now() - t0 };
}
