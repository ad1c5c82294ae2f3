/** The user pool counting the users whose start throws, grouped by reason, while the others run on. */
import { describe, expect, it } from "vitest";
import { pool } from "../helpers/user-pool.js";

describe("UserPool", () => {
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
        where: expect.stringMatching(/user-pool-crashes\.test\.ts:\d+:\d+$/),
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
});
