import { afterEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../../src/log.js";
import { TelemetryMetrics } from "../../src/metrics/metrics.js";
import { loadNodeSettings } from "../../src/config/load.js";
import type { UserContext } from "../../src/scenario/api.js";
import { Telemetry } from "../../src/telemetry.js";
import { RangeCursor, nowMs } from "../../src/users/schedule.js";
import { UserPool } from "../../src/users/user-pool.js";
import { until } from "../helpers/node.js";

function pool(start: (id: number, s: unknown, ctx: UserContext) => Promise<void>, env: NodeJS.ProcessEnv = {}, forceGraceMs = 2000) {
  const telemetry = new Telemetry();
  const settings = loadNodeSettings({ env: { AMOC_REPEAT_NUM: "1", ...env } });
  const p = new UserPool({ scenario: { start }, state: undefined, vars: {}, settings, telemetry, metrics: new TelemetryMetrics(telemetry), log: silentLogger(), forceGraceMs });
  return { p, telemetry };
}

const plan = (from: number, to: number, ia: number, step = 1, offset = 0) => new RangeCursor({ from, to, step, offset, t0Ms: nowMs(), baseId: from, interarrivalMs: ia });

describe("UserPool", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("starts users in ID order on their planned instants", async () => {
    const order: number[] = [];
    const startedAt = new Map<number, number>();
    const { p } = pool(async (id) => {
      order.push(id);
      startedAt.set(id, nowMs());
    });
    const cursor = plan(1, 20, 5);
    const t0 = cursor.atMs;
    p.schedule(cursor);
    await p.whenIdle();
    expect(order).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // nobody starts before its own instant t0 + (id - 1) * interarrival
    for (const [id, at] of startedAt) expect(at).toBeGreaterThanOrEqual(t0 + (id - 1) * 5);
    expect(p.counts()).toMatchObject({ started: 20, finished: 20, running: 0, pending: 0 });
  });

  it("deals a compact range: step and offset select every k-th ID", async () => {
    const ids: number[] = [];
    const { p } = pool(async (id) => void ids.push(id));
    p.schedule(plan(1, 10, 0, 3, 1));
    await p.whenIdle();
    expect(ids).toEqual([2, 5, 8]);
  });

  it("repeats start repeat_num times with repeat_interval between", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setImmediate", "clearImmediate", "performance"] });
    let runs = 0;
    const { p } = pool(async () => void runs++, { AMOC_REPEAT_NUM: "3", AMOC_REPEAT_INTERVAL: "30" });
    p.schedule(plan(1, 1, 0));
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toBe(1);
    // the second run waits the whole repeat_interval, not a moment less
    await vi.advanceTimersByTimeAsync(29);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(runs).toBe(2);
    await vi.advanceTimersByTimeAsync(30);
    expect(runs).toBe(3);
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(3);
    expect(p.counts()).toMatchObject({ finished: 1, running: 0 });
  });

  it("remove picks the highest running ids, gracefully letting start finish", async () => {
    const finishedRuns: number[] = [];
    const { p } = pool(
      async (id, _s, ctx) => {
        await ctx.stopped();
        finishedRuns.push(id);
      },
      { AMOC_REPEAT_NUM: "infinity" },
    );
    p.schedule(plan(1, 10, 0));
    await until(() => p.counts().running === 10);
    expect(p.remove(3, false)).toBe(3);
    await until(() => p.counts().running === 7);
    expect(finishedRuns.sort((a, b) => a - b)).toEqual([8, 9, 10]);
    expect(p.runningIds()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(p.counts().removed).toBe(3);
    // asking for more than are running removes all and says how many
    expect(p.remove(100, false)).toBe(7);
    await p.whenIdle();
  });

  it("forced removal aborts the signal and drops a user that ignores it after the grace period", async () => {
    let aborted = 0;
    const { p } = pool(
      async (_id, _s, ctx) => {
        ctx.signal.addEventListener("abort", () => aborted++);
        await new Promise(() => {}); // ignores everything
      },
      {},
      100,
    );
    p.schedule(plan(1, 4, 0));
    await until(() => p.counts().running === 4);
    expect(p.remove(2, true)).toBe(2);
    expect(aborted).toBe(2);
    expect(p.counts().running).toBe(4);
    await until(() => p.counts().running === 2, 2000);
    expect(p.runningIds()).toEqual([1, 2]);
    expect(p.counts().removed).toBe(2);
    p.dispose();
  });

  it("ctx.sleep rejects on forced removal so start unwinds at once", async () => {
    // a grace period far beyond the wait: the users can only be gone because start unwound
    const { p } = pool(async (_id, _s, ctx) => ctx.sleep(600_000), {}, 600_000);
    p.schedule(plan(1, 3, 0));
    await until(() => p.counts().running === 3);
    p.remove(3, true);
    await until(() => p.counts().running === 0);
    expect(p.counts()).toMatchObject({ removed: 3, crashed: 0, removing: 0 });
    p.dispose();
  });

  it("a second removal never selects users already being removed, and counts only the new ones", async () => {
    const { p } = pool(async (_id, _s, ctx) => ctx.sleep(600_000), { AMOC_REPEAT_NUM: "infinity" }, 600_000);
    p.schedule(plan(1, 20, 0));
    await until(() => p.counts().running === 20);
    // graceful: 16..20 keep sleeping (they finish their current start), so they stay running while being removed
    expect(p.remove(5, false)).toBe(5);
    expect(p.counts()).toMatchObject({ running: 20, removing: 5 });
    expect(p.removable(5, true)).toEqual([15, 14, 13, 12, 11]);
    expect(p.remove(5, true)).toBe(5);
    await until(() => p.counts().running === 15);
    expect(p.runningIds()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 17, 18, 19, 20]);
    expect(p.counts()).toMatchObject({ removing: 5, removed: 5 });
    // asking again for the same IDs selects nobody new
    expect(p.removeIds([16, 17, 18, 19, 20], false)).toBe(0);
    p.dispose();
  });

  it("a forced removal short of fresh users escalates graceful ones without counting them twice", async () => {
    const { p } = pool(async (_id, _s, ctx) => ctx.sleep(600_000), { AMOC_REPEAT_NUM: "infinity" }, 600_000);
    p.schedule(plan(1, 6, 0));
    await until(() => p.counts().running === 6);
    expect(p.remove(4, false)).toBe(4);
    // 2 fresh users (1, 2) are selected; the 4 graceful ones are escalated to make up the 6, but not counted again
    expect(p.remove(6, true)).toBe(2);
    await until(() => p.counts().running === 0);
    expect(p.counts()).toMatchObject({ started: 6, removed: 6, removing: 0, running: 0 });
    p.dispose();
  });

  it("counts a throw from start with its phase and message and never stops the other users", async () => {
    const { p } = pool(async (id, _s, ctx) => {
      ctx.phase = "login";
      if (id % 2) throw new Error("bad password");
    });
    p.schedule(plan(1, 10, 0));
    await p.whenIdle();
    expect(p.counts()).toMatchObject({ started: 10, crashed: 5, finished: 5 });
    expect(p.errorSummary()).toEqual([{ phase: "login", message: "bad password", count: 5 }]);
    // the first crash of a kind is logged at warn, the other 4 are left out of the log (and counted)
    expect(p.crashLinesLeftOut()).toBe(4);
  });

  it("stopAll cancels pending starts and removes the running users", async () => {
    const { p } = pool(async (_id, _s, ctx) => ctx.stopped(), { AMOC_REPEAT_NUM: "infinity" });
    p.schedule(plan(1, 1000, 50));
    await until(() => p.counts().running >= 1);
    await p.stopAll();
    expect(p.counts().running).toBe(0);
    expect(p.counts().pending).toBe(0);
    expect(p.counts().started).toBeLessThan(1000);
  });

  it("starting at interarrival 0 yields before the work the started users queued piles up", async () => {
    // each start queues 0.3 ms of work behind its first await: 1,000 started in one 20 ms pass would block 0.3 s
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const { p } = pool(async () => {
      await null;
      busy(0.3);
    });
    // a probe that runs whenever the event loop gets a turn: how many users started between two of its turns
    let startedAtProbe = 0;
    let most = 0;
    let probing = true;
    const probe = () => {
      const s = p.counts().started;
      most = Math.max(most, s - startedAtProbe);
      startedAtProbe = s;
      if (probing) setImmediate(probe);
    };
    setImmediate(probe);
    p.schedule(plan(1, 1000, 0));
    await p.whenIdle();
    probing = false;
    expect(p.counts()).toMatchObject({ started: 1000, finished: 1000 });
    // the first pass starts 256 (no cost known yet), later ones what a 40 ms turn allows at >= 0.3 ms per user
    expect(most).toBeLessThanOrEqual(256);
  }, 20_000);
});
