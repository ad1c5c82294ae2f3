/**
 * The /proc adapter: one process's CPU (cores busy since the previous sampling: 1 = one core the whole time), resident
 * memory and open files. CPU time is in clock ticks of USER_HZ, which Linux fixes at 100 for user space on every
 * architecture it runs amoc on; the interval between samplings comes from the injected Clock.
 */
import type { Clock } from "../clock.js";
import { SutSampleError } from "../errors.js";
import { SUT_PROCESS_CPU, SUT_PROCESS_OPEN_FILES, SUT_PROCESS_RSS } from "../results/sut-series.js";
import type { ProcReader } from "./proc-reader.js";
import type { SutProcess } from "./process-find.js";
import type { SutSource } from "./source.js";

const USER_HZ = 100;

/** One process; see the file comment. */
export class ProcessSampler implements SutSource {
  readonly merge = "replace";
  readonly name: string;
  private prev: { t: number; ticks: number } | undefined;

  constructor(
    private readonly p: SutProcess,
    private readonly clock: Clock,
    private readonly proc: ProcReader,
  ) {
    this.name = `/proc/${p.pid} (${p.label})`;
  }

  sample(): Promise<Record<string, number>> {
    // synchronous reads of small /proc files; a promise for the SutSource shape
    return Promise.resolve().then(() => this.read());
  }

  private read(): Record<string, number> {
    const t = this.clock.now();
    const dir = `/proc/${this.p.pid}`;
    let stat: string;
    let status: string;
    try {
      stat = this.proc.read(`${dir}/stat`);
      status = this.proc.read(`${dir}/status`);
    } catch {
      throw new SutSampleError(`the server process ${this.p.label} is gone`, "did the server stop or crash?");
    }
    // the fields after the command name, which may itself hold spaces and parentheses
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(f[11]) + Number(f[12]);
    const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
    const out: Record<string, number> = {};
    if (Number.isFinite(rssKb)) out[SUT_PROCESS_RSS] = rssKb * 1024;
    try {
      out[SUT_PROCESS_OPEN_FILES] = this.proc.list(`${dir}/fd`).length;
    } catch {
      // another user's process: its fds are not ours to list; CPU and memory still are
    }
    const p = this.prev;
    if (Number.isFinite(ticks)) {
      this.prev = { t, ticks };
      if (p && t > p.t)
        out[SUT_PROCESS_CPU] = Math.round(((ticks - p.ticks) / USER_HZ / ((t - p.t) / 1000)) * 1000) / 1000;
    }
    return out;
  }
}
