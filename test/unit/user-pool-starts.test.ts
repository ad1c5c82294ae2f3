/** The user pool starting users on fake time: every start instant, repeat and pass size is asserted exactly. */
import { describe, expect, it } from "vitest";
import { RangeCursor } from "../../src/users/schedule.js";
import { FIRST_PASS_USERS } from "../../src/users/start-scheduler.js";
import { pool, range } from "../helpers/user-pool.js";

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
