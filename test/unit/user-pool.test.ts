/** The user pool on fake time: every start instant, removal and grace period is asserted exactly. */
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log.js";
import { TelemetryMetrics } from "../../src/metrics/metrics.js";
import { loadNodeSettings } from "../../src/config/load.js";
import type { UserContext } from "../../src/scenario/api.js";
import { Telemetry } from "../../src/telemetry.js";
import { RangeCursor } from "../../src/users/schedule.js";
import { FIRST_PASS_USERS } from "../../src/users/start-scheduler.js";
import { UserPool } from "../../src/users/user-pool.js";
import { FakeClock, settle } from "../helpers/fake-clock.js";

function pool(
  start: (id: number, s: unknown, ctx: UserContext) => Promise<void>,
  env: NodeJS.ProcessEnv = {},
  forceGraceMs = 2000,
) {
  const clock = new FakeClock(1_000);
  const telemetry = new Telemetry();
  const settings = loadNodeSettings({ env: { AMOC_REPEAT_NUM: "1", ...env } });
  const p = new UserPool({
    scenario: { start },
    state: undefined,
    vars: {},
    settings,
    telemetry,
    metrics: new TelemetryMetrics(telemetry),
    log: silentLogger(),
    forceGraceMs,
    clock,
  });
  const plan = (from: number, to: number, ia: number, step = 1, offset = 0) =>
    new RangeCursor({ from, to, step, offset, t0Ms: clock.now(), baseId: from, interarrivalMs: ia });
  return { p, telemetry, clock, plan };
}

const range = <T>(from: number, to: number, f: (id: number) => T) =>
  Array.from({ length: to - from + 1 }, (_, i) => f(from + i));

describe("UserPool", () => {
  it("starts users in ID order, each exactly on its planned instant, with no lag", async () => {
    const startedAt: Array<[number, number]> = [];
    const { p, clock, plan, telemetry } = pool(async (id) => void startedAt.push([id, clock.now()]));
    const lags: number[] = [];
    telemetry.on("user.started", (e) => lags.push(e.lagMs));
    p.schedule(plan(1, 20, 5));
    await clock.runUntilIdle();
    expect(startedAt).toEqual(range(1, 20, (id) => [id, 1_000 + (id - 1) * 5]));
    expect(lags).toEqual(range(1, 20, () => 0));
    expect(p.counts()).toMatchObject({ started: 20, finished: 20, running: 0, pending: 0 });
    expect(clock.pending).toBe(0);
  });

  it("a user due between two milliseconds starts on the next one, never before its instant", async () => {
    const at: number[] = [];
    const { p, clock, plan } = pool(async () => void at.push(clock.now()));
    p.schedule(plan(1, 5, 2.5)); // due at +0, +2.5, +5, +7.5, +10
    await clock.runUntilIdle();
    expect(at).toEqual([1_000, 1_003, 1_005, 1_008, 1_010]);
  });

  it("starts nobody before the instant, and exactly the users due by each advance", async () => {
    const { p, clock, plan } = pool(async () => {});
    p.schedule(plan(1, 100, 10));
    await clock.advance(0);
    expect(p.counts()).toMatchObject({ started: 1, pending: 99 });
    await clock.advance(9);
    expect(p.counts().started).toBe(1);
    await clock.advance(1);
    expect(p.counts().started).toBe(2);
    await clock.advance(500);
    expect(p.counts()).toMatchObject({ started: 52, pending: 48 });
    expect(p.lastPlannedAtMs()).toBe(1_000 + 99 * 10);
    p.dispose();
  });

  it("deals a compact range: step and offset select every k-th ID", async () => {
    const ids: number[] = [];
    const { p, clock, plan } = pool(async (id) => void ids.push(id));
    p.schedule(plan(1, 10, 0, 3, 1));
    await clock.runUntilIdle();
    expect(ids).toEqual([2, 5, 8]);
  });

  it("two plans interleave by instant, not by the order they were added", async () => {
    const ids: number[] = [];
    const { p, clock, plan } = pool(async (id) => void ids.push(id));
    p.schedule(plan(1, 3, 10));
    p.schedule(
      new RangeCursor({ from: 11, to: 13, step: 1, offset: 0, t0Ms: clock.now() + 5, baseId: 11, interarrivalMs: 10 }),
    );
    await clock.runUntilIdle();
    expect(ids).toEqual([1, 11, 2, 12, 3, 13]);
  });

  it("repeats start repeat_num times, each repeat exactly repeat_interval after the last run ended", async () => {
    const runsAt: number[] = [];
    const { p, clock, plan } = pool(async () => void runsAt.push(clock.now()), {
      AMOC_REPEAT_NUM: "3",
      AMOC_REPEAT_INTERVAL: "30",
    });
    p.schedule(plan(1, 1, 0));
    await clock.advance(29);
    expect(runsAt).toEqual([1_000]);
    await clock.advance(1);
    expect(runsAt).toEqual([1_000, 1_030]);
    await clock.runUntilIdle();
    expect(runsAt).toEqual([1_000, 1_030, 1_060]);
    expect(p.counts()).toMatchObject({ finished: 1, running: 0 });
  });

  it("remove picks the highest running ids, gracefully letting start finish", async () => {
    const finishedRuns: number[] = [];
    const { p, clock, plan } = pool(
      async (id, _s, ctx) => {
        await ctx.stopped();
        finishedRuns.push(id);
      },
      { AMOC_REPEAT_NUM: "infinity" },
    );
    p.schedule(plan(1, 10, 0));
    await clock.advance(0);
    expect(p.counts().running).toBe(10);
    expect(p.remove(3, false)).toBe(3);
    await settle();
    expect(p.counts().running).toBe(7);
    expect(finishedRuns.sort((a, b) => a - b)).toEqual([8, 9, 10]);
    expect(p.runningIds()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(p.counts().removed).toBe(3);
    // asking for more than are running removes all and says how many
    expect(p.remove(100, false)).toBe(7);
    await p.whenIdle();
  });

  it("forced removal aborts the signal and drops a user that ignores it exactly when the grace period ends", async () => {
    let aborted = 0;
    const { p, clock, plan } = pool(
      async (_id, _s, ctx) => {
        ctx.signal.addEventListener("abort", () => aborted++);
        await new Promise(() => {}); // ignores everything
      },
      {},
      100,
    );
    p.schedule(plan(1, 4, 0));
    await clock.advance(0);
    expect(p.remove(2, true)).toBe(2);
    expect(aborted).toBe(2);
    await clock.advance(99);
    expect(p.counts()).toMatchObject({ running: 4, removing: 2 });
    await clock.advance(1);
    expect(p.runningIds()).toEqual([1, 2]);
    expect(p.counts()).toMatchObject({ running: 2, removed: 2, removing: 0 });
    p.dispose();
    expect(clock.pending).toBe(0);
  });

  it("a forced removal ends the session a user set as its removal target, once, and a graceful one does not", async () => {
    const ended: number[] = [];
    const { p, clock, plan } = pool(
      async (id, _s, ctx) => {
        const c = ctx as UserContext & { removalTarget: { onForcedRemoval(): void } | null };
        c.removalTarget = { onForcedRemoval: () => ended.push(id) };
        await ctx.stopped();
      },
      {},
      600_000,
    );
    p.schedule(plan(1, 4, 0));
    await clock.advance(0);
    p.remove(1, false);
    await settle();
    expect(ended).toEqual([]);
    p.remove(3, true);
    await settle();
    expect(ended.sort()).toEqual([1, 2, 3]);
    expect(p.counts()).toMatchObject({ running: 0, removed: 4, crashed: 0 });
    p.dispose();
  });

  it("ctx.sleep rejects on forced removal so start unwinds at once, long before the grace period", async () => {
    const { p, clock, plan } = pool(async (_id, _s, ctx) => ctx.sleep(600_000), {}, 600_000);
    p.schedule(plan(1, 3, 0));
    await clock.advance(0);
    expect(p.counts().running).toBe(3);
    p.remove(3, true);
    await settle();
    expect(clock.now()).toBe(1_000);
    expect(p.counts()).toMatchObject({ running: 0, removed: 3, crashed: 0, removing: 0 });
    // the sleeps' timers are gone; only the grace timer is left, and dispose clears it
    expect(clock.pending).toBe(1);
    p.dispose();
    expect(clock.pending).toBe(0);
  });

  it("ctx.sleep resolves exactly after its delay", async () => {
    const woke: number[] = [];
    const { p, clock, plan } = pool(async (_id, _s, ctx) => {
      await ctx.sleep(250);
      woke.push(clock.now());
    });
    p.schedule(plan(1, 2, 100));
    await clock.runUntilIdle();
    expect(woke).toEqual([1_250, 1_350]);
  });

  it("a second removal never selects users already being removed, and counts only the new ones", async () => {
    const { p, clock, plan } = pool(
      async (_id, _s, ctx) => ctx.sleep(600_000),
      { AMOC_REPEAT_NUM: "infinity" },
      600_000,
    );
    p.schedule(plan(1, 20, 0));
    await clock.advance(0);
    expect(p.counts().running).toBe(20);
    // graceful: 16..20 keep sleeping (they finish their current start), so they stay running while being removed
    expect(p.remove(5, false)).toBe(5);
    expect(p.counts()).toMatchObject({ running: 20, removing: 5 });
    expect(p.removable(5, true)).toEqual([15, 14, 13, 12, 11]);
    expect(p.remove(5, true)).toBe(5);
    await settle();
    expect(p.runningIds()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 17, 18, 19, 20]);
    expect(p.counts()).toMatchObject({ removing: 5, removed: 5 });
    // asking again for the same IDs selects nobody new
    expect(p.removeIds([16, 17, 18, 19, 20], false)).toBe(0);
    p.dispose();
  });

  it("a forced removal short of fresh users escalates graceful ones without counting them twice", async () => {
    const { p, clock, plan } = pool(
      async (_id, _s, ctx) => ctx.sleep(600_000),
      { AMOC_REPEAT_NUM: "infinity" },
      600_000,
    );
    p.schedule(plan(1, 6, 0));
    await clock.advance(0);
    expect(p.remove(4, false)).toBe(4);
    // 2 fresh users (1, 2) are selected; the 4 graceful ones are escalated to make up the 6, but not counted again
    expect(p.remove(6, true)).toBe(2);
    await settle();
    expect(p.counts()).toMatchObject({ started: 6, removed: 6, removing: 0, running: 0 });
    p.dispose();
  });

  it("counts a throw from start by its reason, with one example and when it was first and last seen, and never stops the other users", async () => {
    const { p, clock, plan } = pool(async (id, _s, ctx) => {
      ctx.phase = "login";
      if (id % 2) throw new Error("bad password");
    });
    const t0 = clock.now();
    p.schedule(plan(1, 10, 10));
    await clock.runUntilIdle();
    expect(p.counts()).toMatchObject({ started: 10, crashed: 5, finished: 5 });
    expect(p.errorSummary()).toEqual([
      {
        reason: "login:error: bad password",
        phase: "login",
        message: "bad password",
        // the scenario's line that threw, here this test's start function
        where: expect.stringMatching(/user-pool\.test\.ts:\d+:\d+$/),
        count: 5,
        first_seen: t0,
        last_seen: t0 + 80,
      },
    ]);
    // the first crash of a kind is logged at warn, the other 4 are left out of the log (and counted)
    expect(p.crashLinesLeftOut()).toBe(4);
  });

  it("groups 3,000 crashes whose messages name their user, address and port into one reason per cause", async () => {
    const { p, clock, plan } = pool(async (id, _s, ctx) => {
      ctx.phase = "connect";
      if (id % 3 === 0)
        throw Object.assign(new Error(`user_${id}@localhost: connect ECONNREFUSED 127.0.0.1:${40000 + id}`), {
          code: "ECONNREFUSED",
        });
      throw new Error(`timeout: connecting user_${id}@localhost via 127.0.0.1:${5222 + (id % 7)} after ${id} ms`);
    });
    p.schedule(plan(1, 3000, 0));
    await clock.runUntilIdle();
    expect(p.counts()).toMatchObject({ started: 3000, crashed: 3000 });
    expect(p.errorSummary().map((e) => [e.reason, e.count])).toEqual([
      ["connect:error: timeout: connecting <jid> via <addr> after <n> ms", 2000],
      ["connect:ECONNREFUSED", 1000],
    ]);
  });

  it("stopAll cancels pending starts and removes the running users", async () => {
    const { p, clock, plan } = pool(async (_id, _s, ctx) => ctx.stopped(), { AMOC_REPEAT_NUM: "infinity" });
    p.schedule(plan(1, 1000, 50));
    await clock.advance(100);
    expect(p.counts()).toMatchObject({ started: 3, running: 3, pending: 997 });
    await p.stopAll();
    expect(p.counts()).toMatchObject({ started: 3, removed: 3, running: 0, pending: 0 });
    p.dispose();
    expect(clock.pending).toBe(0);
  });

  it("at interarrival 0 a pass starts what the last turn's cost per user allows, so queued work never piles up", async () => {
    // each start queues 0.3 ms of work behind its first await: the first pass (no cost known) starts 256, then
    // every pass starts floor(40 ms / 0.3 ms) = 133 until the 1,000 are started
    const { p, clock, plan } = pool(async () => {
      await null;
      clock.spend(0.3);
    });
    p.schedule(plan(1, 1000, 0));
    const passes: number[] = [];
    let before = 0;
    while (await clock.step()) {
      passes.push(p.counts().started - before);
      before = p.counts().started;
    }
    expect(passes).toEqual([FIRST_PASS_USERS, 133, 133, 133, 133, 133, 79]);
    expect(p.counts()).toMatchObject({ started: 1000, finished: 1000 });
  });

  it("a pass that itself runs past 20 ms yields, checking the clock every 16 users", async () => {
    // each start costs 0.3 ms in the pass itself: 80 starts are 24 ms, the first multiple of 16 past 20 ms
    const { p, clock, plan } = pool(async () => void clock.spend(0.3));
    p.schedule(plan(1, 200, 0));
    const passes: number[] = [];
    let before = 0;
    while (await clock.step()) {
      passes.push(p.counts().started - before);
      before = p.counts().started;
    }
    expect(passes).toEqual([80, 80, 40]);
  });
});
