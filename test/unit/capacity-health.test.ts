import { describe, expect, it } from "vitest";
import { generatorHealth } from "../../src/node/capacity/health.js";
import { EVENT_LOOP_LAG_P99, OPEN_FDS } from "../../src/metrics/names.js";
import { CPU_PCT_GAUGE, FD_LIMIT_GAUGE } from "../../src/results/capacity-record.js";
import { mergeIntervals } from "../../src/results/merge.js";
import type { EncodedInterval } from "../../src/results/interval.js";

const T = Date.UTC(2026, 11, 4, 12);

/** One interval of each worker, with the health gauges a worker publishes (cluster/worker-health.ts). */
function step(workers: Record<string, { lag: number; cpu: number; fds: number; limit: number; emfile?: number }>) {
  return [0, 1000].map((dt) =>
    mergeIntervals(
      Object.entries(workers).map(([node, w]): EncodedInterval => ({
        v: 1,
        node,
        t: T + dt,
        ms: 1000,
        c: w.emfile ? { "crash_reasons.connect:EMFILE": w.emfile } : {},
        g: { [EVENT_LOOP_LAG_P99]: w.lag, [CPU_PCT_GAUGE]: w.cpu, [OPEN_FDS]: w.fds, [FD_LIMIT_GAUGE]: w.limit },
        h: {},
      })),
    ),
  );
}

describe("the generator health of each worker in a --dist step", () => {
  it("healthy workers leave the step measuring the server, each worker's figures kept", () => {
    const h = generatorHealth(
      step({ w1: { lag: 12, cpu: 40, fds: 300, limit: 1024 }, w2: { lag: 20, cpu: 55, fds: 310, limit: 1024 } }),
    );
    expect(h.limited).toBeNull();
    expect(h.workers).toEqual({
      w1: { lagP99MaxMs: 12, openFdsMax: 300, limited: null },
      w2: { lagP99MaxMs: 20, openFdsMax: 310, limited: null },
    });
    expect(h.cpuMaxPct).toBe(55);
  });

  it("one worker near its open-file limit makes the step generator-limited, naming that worker", () => {
    const h = generatorHealth(
      step({ w1: { lag: 12, cpu: 40, fds: 300, limit: 1024 }, w2: { lag: 20, cpu: 55, fds: 950, limit: 1024 } }),
    );
    expect(h.limited).toBe("worker w2: 950 open files of a limit of 1024 (over 90 %)");
    expect(h.workers?.w1?.limited).toBeNull();
  });

  it("one worker whose event loop lags, or whose users crash on EMFILE, limits the step", () => {
    const lag = generatorHealth(
      step({ w1: { lag: 350, cpu: 98, fds: 300, limit: 1024 }, w2: { lag: 20, cpu: 55, fds: 310, limit: 1024 } }),
    );
    expect(lag.limited).toMatch(/^worker w1: event-loop lag p99 350 ms > 200 ms; generator CPU 98 % of a core > 90 %$/);
    const fd = generatorHealth(
      step({
        w1: { lag: 10, cpu: 30, fds: 300, limit: 1024 },
        w2: { lag: 20, cpu: 55, fds: 310, limit: 1024, emfile: 4 },
      }),
    );
    expect(fd.limited).toBe("worker w2: users crashed on the generator's fd/port exhaustion (8 x connect:EMFILE)");
    expect(fd.exhaustion).toEqual({ "connect:EMFILE": 8 });
  });
});
