/** The user pool removing users on fake time: which users are picked, grace periods, forced removal and stopAll. */
import { describe, expect, it } from "vitest";
import type { UserContext } from "../../src/scenario/api.js";
import { settle } from "../helpers/fake-clock.js";
import { pool } from "../helpers/user-pool.js";

describe("UserPool", () => {
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
});
