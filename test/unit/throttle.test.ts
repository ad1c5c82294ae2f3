import { describe, expect, it } from "vitest";
import { AmocError } from "../../src/errors.js";
import { LocalThrottle, ThrottleRegistry, applyThrottleOp, ratePerMs } from "../../src/users/throttle.js";
import { testController, until } from "../helpers/node.js";

const SHAPES = new URL("../fixtures/shapes", import.meta.url).pathname;

/** Keeps `n` callers waiting on `t` for `ms`; returns how many were released. */
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

describe("throttle", () => {
  it("reads rate per interval (amoc's default interval is a minute) and interarrival", () => {
    expect(ratePerMs({ rate: 100, interval: 1000 }).perMs).toBeCloseTo(0.1);
    expect(ratePerMs(600).perMs).toBeCloseTo(0.01);
    expect(ratePerMs({ interarrival: 20 }).perMs).toBeCloseTo(0.05);
    expect(ratePerMs({ interarrival: Infinity }).perMs).toBe(0);
    expect(() => ratePerMs({ rate: -1 })).toThrow(AmocError);
  });

  it("paces this node's share of the cluster-wide rate", async () => {
    const t = new LocalThrottle("t", 400 / 1000, 1000, 0.5); // 200/s here
    const { released, elapsedMs } = await drive(t, 20, 1000);
    // the first action goes at once, then one every 5 ms: never above the rate, at most a slot or two below
    const slots = 1 + Math.floor(elapsedMs / 5);
    expect(released).toBeLessThanOrEqual(slots);
    expect(released).toBeGreaterThanOrEqual(slots * 0.97);
  });

  it("pause holds every waiter, resume releases them at the rate, stop rejects the rest", async () => {
    const reg = new ThrottleRegistry(1);
    expect(reg.start("t", { rate: 1000, interval: 1000 })).toBe("started");
    expect(reg.start("t", { rate: 1000, interval: 1000 })).toBe("already_started");
    expect(() => reg.start("t", { rate: 5, interval: 1000 })).toThrow(/another rate/);
    reg.pause("t");
    let done = 0;
    const ps = Array.from({ length: 5 }, () => reg.wait("t").then(() => done++));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(0);
    reg.resume("t");
    await Promise.all(ps);
    expect(done).toBe(5);
    reg.pause("t");
    const stuck = reg.wait("t");
    reg.stop("t");
    await expect(stuck).rejects.toMatchObject({ code: "THROTTLE_UNKNOWN" });
    await expect(reg.wait("t")).rejects.toMatchObject({ code: "THROTTLE_UNKNOWN" });
  });

  it("a waiter whose signal aborts leaves the queue and rejects", async () => {
    const reg = new ThrottleRegistry(1);
    reg.start("t", 0);
    const ac = new AbortController();
    const p = reg.wait("t", ac.signal);
    ac.abort(new Error("removed"));
    await expect(p).rejects.toThrow("removed");
    expect(reg.list()[0]!.waiting).toBe(0);
  });

  it("a node with no share yet paces nothing until the master's split arrives", async () => {
    const reg = new ThrottleRegistry(0);
    reg.start("t", { rate: 1000, interval: 1000 });
    let done = false;
    const p = reg.wait("t").then(() => (done = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    reg.setFraction(0.25);
    await p;
    expect(reg.list()[0]).toMatchObject({ share: 0.25, local_rate: 250 });
  });

  it("changes the rate gradually in local steps", async () => {
    const reg = new ThrottleRegistry(1);
    reg.start("t", { rate: 10, interval: 1000 });
    applyThrottleOp(reg, { op: "change_rate_gradually", name: "t", gradual: { from: 100, to: 500, overMs: 200, steps: 4 } });
    expect(reg.list()[0]!.rate).toBeCloseTo(100);
    await until(() => Math.abs(reg.list()[0]!.rate - 500) < 1e-6, 3000, "rate 500");
  });

  it("a scenario waits on ctx.throttle; throttles start from the run's settings and end with the run", async () => {
    const { controller: c } = testController({}, { scenariosDir: SHAPES });
    await c.do("throttled", 1, 3, { interarrival: 0, sink_port: 9, throttles: { t: { rate: 200, interval: 1000 } } });
    await until(() => (c.throttles.list()[0]?.released ?? 0) >= 20, 5000, "20 actions");
    await c.stop();
    expect(c.throttles.list()).toEqual([]);
  });
});

describe("throttle through the Node API", () => {
  it("the local API changes, pauses and lists a running throttle, per node", async () => {
    const { LocalNodeApi } = await import("../../src/node/local-api.js");
    const { throttleApi } = await import("../../src/api/throttle-binding.js");
    const { controller: c } = testController({}, { scenariosDir: SHAPES });
    const api = new LocalNodeApi({ controller: c, scenariosDir: SHAPES, labels: {} });
    await c.do("throttled", 1, 2, { interarrival: 0, sink_port: 9, throttles: { t: { rate: 100, interval: 1000 } } });
    const t = throttleApi(api) as Record<string, (...a: unknown[]) => Promise<{ nodes: Record<string, { ok: boolean; result: { throttles: Array<Record<string, unknown>> } }> }>>;
    const r = await t.change_rate!("t", { rate: 500, interval: 1000 });
    expect(r.nodes.test!.result.throttles[0]).toMatchObject({ name: "t", rate: 500, interval: 1000, share: 1 });
    await t.pause!("t");
    expect((await t.list!()).nodes.test!.result.throttles[0]).toMatchObject({ paused: true, local_rate: 0 });
    await expect(t.resume!("nope")).rejects.toMatchObject({ code: "THROTTLE_UNKNOWN" });
    await c.stop();
  });
});
