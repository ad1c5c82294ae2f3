import { describe, expect, it, onTestFinished } from "vitest";
import { AmocError } from "../../src/errors.js";
import { LocalThrottle, ratePerMs } from "../../src/throttle/local-throttle.js";
import { ThrottleRegistry, applyThrottleOp } from "../../src/throttle/throttle.js";
import { testController } from "../helpers/node.js";
import { until } from "../helpers/wait.js";
import { FakeClock, settle } from "../helpers/fake-clock.js";

const SHAPES = new URL("../fixtures/shapes", import.meta.url).pathname;

/** `callers` loops waiting on `t` over and over: the fake instant of every release, until `stop()`. */
function drive(t: LocalThrottle, clock: FakeClock, callers: number) {
  const at: number[] = [];
  let open = true;
  const loops = Array.from({ length: callers }, async () => {
    while (open) {
      await t.wait();
      if (open) at.push(clock.now());
    }
  });
  return {
    at,
    async stop() {
      open = false;
      t.setRate(Infinity, 1000); // let the loops see `open` and end
      await Promise.all(loops);
    },
  };
}

describe("throttle", () => {
  it("reads rate per interval (amoc's default interval is a minute) and interarrival", () => {
    expect(ratePerMs({ rate: 100, interval: 1000 }).perMs).toBeCloseTo(0.1);
    expect(ratePerMs(600).perMs).toBeCloseTo(0.01);
    expect(ratePerMs({ interarrival: 20 }).perMs).toBeCloseTo(0.05);
    expect(ratePerMs({ interarrival: Infinity }).perMs).toBe(0);
    expect(() => ratePerMs({ rate: -1 })).toThrow(AmocError);
  });

  it("paces this node's share of the cluster-wide rate: one release every 5 ms at 200/s, the first at once", async () => {
    const clock = new FakeClock(1_000);
    const t = new LocalThrottle("t", 400 / 1000, 1000, 0.5, clock); // 200/s here
    const d = drive(t, clock, 20);
    await clock.advance(1000);
    expect(d.at).toEqual(Array.from({ length: 201 }, (_, i) => 1_000 + i * 5));
    expect(t.released).toBe(201);
    expect(t.waiting).toBe(20);
    await d.stop();
  });

  it("idle time earns no burst: after a pause in demand the next slot starts from now", async () => {
    const clock = new FakeClock();
    const t = new LocalThrottle("t", 0.1, 1000, 1, clock); // one per 10 ms
    await t.wait();
    await clock.advance(1000);
    const at: number[] = [];
    const ps = Array.from({ length: 3 }, () => t.wait().then(() => at.push(clock.now())));
    await clock.advance(30);
    await Promise.all(ps);
    expect(at).toEqual([1000, 1010, 1020]);
  });

  it("pause holds every waiter, resume releases them at the rate, stop rejects the rest", async () => {
    const clock = new FakeClock();
    const reg = new ThrottleRegistry(1, clock);
    expect(reg.start("t", { rate: 1000, interval: 1000 })).toBe("started");
    expect(reg.start("t", { rate: 1000, interval: 1000 })).toBe("already_started");
    expect(() => reg.start("t", { rate: 5, interval: 1000 })).toThrow(/another rate/);
    reg.pause("t");
    const at: number[] = [];
    const ps = Array.from({ length: 5 }, () => reg.wait("t").then(() => at.push(clock.now())));
    await clock.advance(10_000);
    expect(at).toEqual([]);
    // a paused throttle sets no timer at all
    expect(clock.pending).toBe(0);
    reg.resume("t");
    await clock.advance(10);
    await Promise.all(ps);
    // one per ms from the resume on
    expect(at).toEqual([10_000, 10_001, 10_002, 10_003, 10_004]);
    reg.pause("t");
    const stuck = reg.wait("t");
    reg.stop("t");
    await expect(stuck).rejects.toMatchObject({ code: "THROTTLE_UNKNOWN" });
    await expect(reg.wait("t")).rejects.toMatchObject({ code: "THROTTLE_UNKNOWN" });
    expect(clock.pending).toBe(0);
  });

  it("refuses times Node's timers cannot hold, so a ramp never jumps to its target at once", () => {
    const reg = new ThrottleRegistry(1, new FakeClock());
    onTestFinished(() => reg.clear());
    reg.start("t", 100);
    expect(() => reg.changeRateGradually("t", { from: 1, to: 10, overMs: 99_999_999_999_999 })).toThrow(
      /overMs and interval must be ms in 1\.\.2147483647/,
    );
    expect(() => reg.changeRateGradually("t", { from: 1, to: 10, overMs: 10, steps: 1000 })).toThrow(/under 1 ms/);
    expect(() => reg.changeRate("t", { rate: 5, interval: 2 ** 31 })).toThrow(/at most 2147483647 ms/);
    expect(() => reg.changeRateGradually("t", { from: 1, to: 10, overMs: 60_000, steps: 60 })).not.toThrow();
  });

  it("a waiter whose signal aborts leaves the queue and rejects", async () => {
    const reg = new ThrottleRegistry(1, new FakeClock());
    reg.start("t", 0);
    const ac = new AbortController();
    const p = reg.wait("t", ac.signal);
    ac.abort(new Error("removed"));
    await expect(p).rejects.toThrow("removed");
    expect(reg.list()[0]!.waiting).toBe(0);
  });

  it("a node with no share yet paces nothing until the master's split arrives", async () => {
    const clock = new FakeClock();
    const reg = new ThrottleRegistry(0, clock);
    reg.start("t", { rate: 1000, interval: 1000 });
    let doneAt: number | undefined;
    const p = reg.wait("t").then(() => (doneAt = clock.now()));
    await clock.advance(60_000);
    expect(doneAt).toBeUndefined();
    expect(clock.pending).toBe(0);
    reg.setFraction(0.25);
    await p;
    expect(doneAt).toBe(60_000);
    expect(reg.list()[0]).toMatchObject({ share: 0.25, local_rate: 250 });
  });

  it("changes the rate gradually in local steps, one every overMs / steps", async () => {
    const clock = new FakeClock();
    const reg = new ThrottleRegistry(1, clock);
    reg.start("t", { rate: 10, interval: 1000 });
    applyThrottleOp(reg, {
      op: "change_rate_gradually",
      name: "t",
      gradual: { from: 100, to: 500, overMs: 200, steps: 4 },
    });
    const rates: number[] = [];
    for (let i = 0; i < 5; i++) {
      rates.push(Math.round(reg.list()[0]!.rate));
      await clock.advance(50);
    }
    expect(rates).toEqual([100, 200, 300, 400, 500]);
    // the last step ends the stepping
    expect(clock.pending).toBe(0);
    await settle();
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
    const { testService } = await import("../helpers/node-service.js");
    const { throttleApi } = await import("../../src/api/console/throttle-binding.js");
    const { controller: c } = testController({}, { scenariosDir: SHAPES });
    const { api, cleanup } = testService({ controller: c, scenariosDir: SHAPES });
    onTestFinished(cleanup);
    await c.do("throttled", 1, 2, { interarrival: 0, sink_port: 9, throttles: { t: { rate: 100, interval: 1000 } } });
    const t = throttleApi(api) as Record<
      string,
      (
        ...a: unknown[]
      ) => Promise<{ nodes: Record<string, { ok: boolean; result: { throttles: Array<Record<string, unknown>> } }> }>
    >;
    const r = await t.change_rate!("t", { rate: 500, interval: 1000 });
    expect(r.nodes.test!.result.throttles[0]).toMatchObject({ name: "t", rate: 500, interval: 1000, share: 1 });
    await t.pause!("t");
    expect((await t.list!()).nodes.test!.result.throttles[0]).toMatchObject({ paused: true, local_rate: 0 });
    await expect(t.resume!("nope")).rejects.toMatchObject({ code: "THROTTLE_UNKNOWN" });
    await c.stop();
  });
});
