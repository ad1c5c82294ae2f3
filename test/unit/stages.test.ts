import { describe, expect, it } from "vitest";
import {
  RemovalDriver,
  ShapeCursor,
  closedShape,
  compileShape,
  openShape,
  plannedOffsetMs,
} from "../../src/shapes/stages.js";
import { parseStages } from "../../src/config/shapes.js";
import { testController } from "../helpers/node.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { perSecond } from "../helpers/shapes.js";
import { newPool } from "../helpers/user-pool.js";
import { parseRunArgs } from "../../src/api/run/options.js";
import { UsageError } from "../../src/errors.js";

const SHAPES = new URL("../fixtures/shapes", import.meta.url).pathname;

/** Planned start offsets (ms after t0) of every user of a shape, walking it as one node would. */
function offsets(segments: ReturnType<typeof closedShape>["segments"], users: number, step = 1, offset = 0): number[] {
  const c = new ShapeCursor({ from: 1, to: users, step, offset, t0Ms: 0, baseId: 1, interarrivalMs: 0, segments });
  const out: number[] = [];
  for (; c.id !== undefined; c.advance()) out.push(c.atMs);
  return out;
}

/** A pool of users that hold until removed, on a fake clock. */
function holdingPool() {
  const clock = new FakeClock(1_000_000);
  const start = async (_id: number, _s: unknown, ctx: { stopped(): Promise<void> }) => ctx.stopped();
  const { p: pool, telemetry } = newPool(start, { clock });
  return { pool, clock, telemetry };
}

describe("load shapes", () => {
  it("parses stages with durations in units and refuses bad ones with the stage named", () => {
    expect(
      parseStages([
        { duration: "1m", target: 10 },
        { duration: 500, target: 0 },
      ]),
    ).toEqual([
      { durationMs: 60_000, target: 10 },
      { durationMs: 500, target: 0 },
    ]);
    expect(() => parseStages([{ duration: "0s", target: 1 }])).toThrow(/stage 0: duration/);
    expect(() => parseStages([{ duration: "1s", target: -1 }])).toThrow(/stage 0: target/);
    expect(() => parseStages({})).toThrow(/JSON list/);
    expect(() =>
      compileShape({
        stages: [{ duration: "1s", target: 1 }],
        arrival_rate: [{ duration: "1s", target: 1 }],
        arrival_process: "constant",
      }),
    ).toThrow(/not both/);
  });

  it("compiles a closed ramp up, hold and ramp down into one start segment and one paced removal", () => {
    const s = closedShape(
      parseStages([
        { duration: "60s", target: 1000 },
        { duration: "5m", target: 1000 },
        { duration: "30s", target: 0 },
      ]),
    );
    expect(s.users).toBe(1000);
    expect(s.segments).toEqual([{ k: 0, n: 1000, t: 0, d: 60_000, r0: 1000 / 60_000, r1: 1000 / 60_000 }]);
    expect(s.removals).toEqual([{ t: 360_000, d: 30_000, n: 1000 }]);
    expect(s.durationMs).toBe(390_000);
  });

  it("a second rise issues new IDs after the hold, starting when its stage starts", () => {
    const s = closedShape(
      parseStages([
        { duration: "1s", target: 10 },
        { duration: "1s", target: 10 },
        { duration: "1s", target: 30 },
      ]),
    );
    expect(s.users).toBe(30);
    const o = offsets(s.segments, 30);
    expect(o.slice(0, 10).every((t) => t >= 0 && t < 1000)).toBe(true);
    expect(o.slice(10).every((t) => t >= 2000 && t < 3000)).toBe(true);
  });

  it("an open-model ramp plans each second's arrivals as the integral of the rate", () => {
    // 0 -> 400/s over 4 s, then 400/s for 2 s: expected 50, 150, 250, 350, 400, 400
    const s = openShape(
      parseStages([
        { duration: "4s", target: 400 },
        { duration: "2s", target: 400 },
      ]),
    );
    expect(s.users).toBe(800 + 800);
    const counts = perSecond(offsets(s.segments, s.users), 6);
    [50, 150, 250, 350, 400, 400].forEach((want, i) => expect(Math.abs(counts[i]! - want)).toBeLessThanOrEqual(1));
  });

  it("each node walks only its share and the shares together are the whole curve", () => {
    const s = openShape(parseStages([{ duration: "3s", target: 300 }]));
    const all = offsets(s.segments, s.users);
    const k = 3;
    const merged = Array.from({ length: k }, (_, j) => offsets(s.segments, s.users, k, j))
      .flat()
      .sort((a, b) => a - b);
    expect(merged).toEqual(all);
    expect(plannedOffsetMs(s, 10)).toBe(all[10]);
  });

  it("poisson arrivals are exactly the planned number, inside their stage, the same on every node", () => {
    const s = compileShape(
      { stages: [], arrival_rate: [{ duration: "10s", rate: 200 }], arrival_process: "poisson" },
      7,
    )!;
    expect(s.segments[0]!.seed).toBeDefined();
    const o = offsets(s.segments, s.users);
    expect(o).toHaveLength(s.users);
    expect(o.every((t, i) => t >= 0 && t <= s.durationMs && (i === 0 || t >= o[i - 1]!))).toBe(true);
    expect(offsets(s.segments, s.users)).toEqual(o);
    // not evenly spaced: gaps vary like exponential draws
    const gaps = o.slice(1).map((t, i) => t - o[i]!);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    const sd = Math.sqrt(gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length);
    expect(sd / mean).toBeGreaterThan(0.7);
  });

  it("the stage driver starts each user of a ramp on the first millisecond at or after its planned instant", async () => {
    const shape = closedShape(
      parseStages([
        { duration: "3s", target: 600 },
        { duration: "1s", target: 600 },
        { duration: "1s", target: 0 },
      ]),
    );
    const { pool, clock, telemetry } = holdingPool();
    const t0 = clock.now();
    const startedAt: number[] = [];
    telemetry.on("user.started", () => startedAt.push(clock.now()));
    const cursor = new ShapeCursor({
      from: 1,
      to: shape.users,
      step: 1,
      offset: 0,
      t0Ms: t0,
      baseId: 1,
      interarrivalMs: 0,
      segments: shape.segments,
    });
    const planned = Array.from({ length: shape.users }, (_, k) => t0 + plannedOffsetMs(shape, k)!);
    pool.schedule(cursor);
    await clock.advance(3000);
    expect(startedAt).toEqual(planned.map(Math.ceil));
    // 200 a second, exactly
    expect(
      perSecond(
        startedAt.map((t) => t - t0),
        3,
      ),
    ).toEqual([200, 200, 200]);
    pool.dispose();
  });

  it("a ramp-down removes the highest users evenly, asking every 100 ms for exactly those due, then stops", async () => {
    const shape = closedShape(
      parseStages([
        { duration: "1s", target: 600 },
        { duration: "1s", target: 600 },
        { duration: "1s", target: 0 },
      ]),
    );
    const { pool, clock } = holdingPool();
    const t0 = clock.now();
    pool.schedule(
      new ShapeCursor({
        from: 1,
        to: shape.users,
        step: 1,
        offset: 0,
        t0Ms: t0,
        baseId: 1,
        interarrivalMs: 0,
        segments: shape.segments,
      }),
    );
    const asked: Array<[number, number]> = [];
    const failures: unknown[] = [];
    const driver = new RemovalDriver(
      t0,
      shape.removals,
      (n) => (asked.push([clock.now() - t0, n]), pool.remove(n, false)),
      (e) => void failures.push(e),
      100,
      clock,
    ).start();
    await clock.advance(2000);
    expect(pool.counts().running).toBe(600);
    expect(asked).toEqual([]);
    // [running, highest running ID] after each tick
    const running: Array<[number, number | undefined]> = [];
    for (let i = 0; i < 10; i++) {
      await clock.advance(100);
      running.push([pool.counts().running, pool.runningIds().at(-1)]);
    }
    expect(asked).toEqual(Array.from({ length: 10 }, (_, i) => [2100 + i * 100, 60]));
    expect(running).toEqual([...[540, 480, 420, 360, 300, 240, 180, 120, 60].map((n) => [n, n]), [0, undefined]]);
    expect(pool.counts()).toMatchObject({ removed: 600, running: 0 });
    expect(failures).toEqual([]);
    // done: the driver's interval is gone
    expect(clock.pending).toBe(0);
    driver.stop();
  });

  it("an open model runs start() once per arrival unless repeat_num is given", async () => {
    const { controller: c } = testController({}, { scenariosDir: SHAPES });
    await c.do("hold", 1, 1, { arrival_rate: [{ duration: "200ms", rate: 50 }] });
    expect(c.status().settings.repeat_num).toBe(1);
    await c.stop();
  });

  it("bin/amoc run takes --stages, --arrival-rate, --poisson and --mix, and a shaped run ends with its last stage", () => {
    const o = parseRunArgs(["hold", "--stages", '[{"duration":"2s","target":10},{"duration":"1s","target":0}]']);
    expect(o.settings.stages).toEqual([
      { duration: "2s", target: 10 },
      { duration: "1s", target: 0 },
    ]);
    expect(o.durationS).toBe(3);
    const p = parseRunArgs([
      "hold",
      "--arrival-rate",
      '[{"duration":"1m","target":50}]',
      "--poisson",
      "--mix",
      '{"a":3,"b":1}',
      "--duration",
      "10",
    ]);
    expect(p.settings).toMatchObject({
      arrival_rate: [{ duration: "1m", target: 50 }],
      arrival_process: "poisson",
      mix: { a: 3, b: 1 },
    });
    expect(p.durationS).toBe(10);
    expect(() => parseRunArgs(["hold", "--stages", "[{}]"])).toThrow(UsageError);
    expect(() => parseRunArgs(["hold"])).toThrow(/--users/);
  });
});
