/**
 * Timing: a throttle on the wall clock, where timers fire late. Unit tests (test/unit/throttle.test.ts) check each
 * release instant exactly on fake time; this checks that late timers catch up, so the long-run rate holds.
 */
import { describe, expect, it } from "vitest";
import { LocalThrottle } from "../../src/throttle/local-throttle.js";

/** Keeps `callers` waiting on `t` for `ms`; returns how many were released. */
async function drive(t: LocalThrottle, callers: number, ms: number): Promise<{ released: number; elapsedMs: number }> {
  let released = 0;
  const t0 = performance.now();
  let open = true;
  const loops = Array.from({ length: callers }, async () => {
    while (open) {
      await t.wait();
      if (open) released++;
    }
  });
  await new Promise((r) => setTimeout(r, ms));
  open = false;
  const elapsedMs = performance.now() - t0;
  t.setRate(Infinity, 1000); // let the loops see `open` and end
  await Promise.all(loops);
  return { released, elapsedMs };
}

describe("throttle on the wall clock", () => {
  it("paces this node's share of the cluster-wide rate: never above it, at most 3 % below", async () => {
    const t = new LocalThrottle("t", 400 / 1000, 1000, 0.5); // 200/s here
    const { released, elapsedMs } = await drive(t, 20, 1000);
    // the first action goes at once, then one every 5 ms: never above the rate, at most a slot or two below
    const slots = 1 + Math.floor(elapsedMs / 5);
    expect(released).toBeLessThanOrEqual(slots);
    expect(released).toBeGreaterThanOrEqual(slots * 0.97);
  });
});
