/**
 * Timing: the user pool on the wall clock. Unit tests (test/unit/user-pool-starts.test.ts) check the pass sizes exactly
 * on fake time; this checks that real work queued by real starts is measured the same way and yields the loop.
 */
import { describe, expect, it } from "vitest";
import { RangeCursor, nowMs } from "../../src/users/schedule.js";
import { FIRST_PASS_USERS } from "../../src/users/start-scheduler.js";
import { newPool } from "../helpers/user-pool.js";

describe("UserPool on the wall clock", () => {
  it("starting at interarrival 0 yields before the work the started users queued piles up", async () => {
    // each start queues 0.3 ms of work behind its first await: 1,000 started in one 20 ms pass would block 0.3 s
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    const start = async () => {
      await null;
      busy(0.3);
    };
    const { p } = newPool(start);
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
    p.schedule(new RangeCursor({ from: 1, to: 1000, step: 1, offset: 0, t0Ms: nowMs(), baseId: 1, interarrivalMs: 0 }));
    await p.whenIdle();
    probing = false;
    expect(p.counts()).toMatchObject({ started: 1000, finished: 1000 });
    // the first pass starts 256 (no cost known yet), later ones what a 40 ms turn allows at >= 0.3 ms per user
    expect(most).toBeLessThanOrEqual(FIRST_PASS_USERS);
  }, 20_000);
});
