import { describe, expect, it } from "vitest";
import { nowMs } from "../../src/users/schedule.js";
import { ShapeCursor, closedShape, compileShape, openShape, plannedOffsetMs } from "../../src/users/stages.js";
import { parseStages } from "../../src/config/shapes.js";
import { testController, until } from "../helpers/node.js";
import { parseRunArgs } from "../../src/api/run-command.js";
import { UsageError } from "../../src/errors.js";

const SHAPES = new URL("../fixtures/shapes", import.meta.url).pathname;

/** Planned start offsets (ms after t0) of every user of a shape, walking it as one node would. */
function offsets(segments: ReturnType<typeof closedShape>["segments"], users: number, step = 1, offset = 0): number[] {
  const c = new ShapeCursor({ from: 1, to: users, step, offset, t0Ms: 0, baseId: 1, interarrivalMs: 0, segments });
  const out: number[] = [];
  for (; c.id !== undefined; c.advance()) out.push(c.atMs);
  return out;
}

function perSecond(ms: number[], seconds: number): number[] {
  const out = new Array<number>(seconds).fill(0);
  for (const t of ms) {
    const s = Math.floor(t / 1000);
    if (s >= 0 && s < seconds) out[s]!++;
  }
  return out;
}

describe("load shapes", () => {
  it("parses stages with durations in units and refuses bad ones with the stage named", () => {
    expect(parseStages([{ duration: "1m", target: 10 }, { duration: 500, target: 0 }])).toEqual([{ durationMs: 60_000, target: 10 }, { durationMs: 500, target: 0 }]);
    expect(() => parseStages([{ duration: "0s", target: 1 }])).toThrow(/stage 0: duration/);
    expect(() => parseStages([{ duration: "1s", target: -1 }])).toThrow(/stage 0: target/);
    expect(() => parseStages({})).toThrow(/JSON list/);
    expect(() => compileShape({ stages: [{ duration: "1s", target: 1 }], arrival_rate: [{ duration: "1s", target: 1 }], arrival_process: "constant" })).toThrow(/not both/);
  });

  it("compiles a closed ramp up, hold and ramp down into one start segment and one paced removal", () => {
    const s = closedShape(parseStages([{ duration: "60s", target: 1000 }, { duration: "5m", target: 1000 }, { duration: "30s", target: 0 }]));
    expect(s.users).toBe(1000);
    expect(s.segments).toEqual([{ k: 0, n: 1000, t: 0, d: 60_000, r0: 1000 / 60_000, r1: 1000 / 60_000 }]);
    expect(s.removals).toEqual([{ t: 360_000, d: 30_000, n: 1000 }]);
    expect(s.durationMs).toBe(390_000);
  });

  it("a second rise issues new IDs after the hold, starting when its stage starts", () => {
    const s = closedShape(parseStages([{ duration: "1s", target: 10 }, { duration: "1s", target: 10 }, { duration: "1s", target: 30 }]));
    expect(s.users).toBe(30);
    const o = offsets(s.segments, 30);
    expect(o.slice(0, 10).every((t) => t >= 0 && t < 1000)).toBe(true);
    expect(o.slice(10).every((t) => t >= 2000 && t < 3000)).toBe(true);
  });

  it("an open-model ramp plans each second's arrivals as the integral of the rate", () => {
    // 0 -> 400/s over 4 s, then 400/s for 2 s: expected 50, 150, 250, 350, 400, 400
    const s = openShape(parseStages([{ duration: "4s", target: 400 }, { duration: "2s", target: 400 }]));
    expect(s.users).toBe(800 + 800);
    const counts = perSecond(offsets(s.segments, s.users), 6);
    [50, 150, 250, 350, 400, 400].forEach((want, i) => expect(Math.abs(counts[i]! - want)).toBeLessThanOrEqual(1));
  });

  it("each node walks only its share and the shares together are the whole curve", () => {
    const s = openShape(parseStages([{ duration: "3s", target: 300 }]));
    const all = offsets(s.segments, s.users);
    const k = 3;
    const merged = Array.from({ length: k }, (_, j) => offsets(s.segments, s.users, k, j)).flat().sort((a, b) => a - b);
    expect(merged).toEqual(all);
    expect(plannedOffsetMs(s, 10)).toBe(all[10]);
  });

  it("poisson arrivals are exactly the planned number, inside their stage, the same on every node", () => {
    const s = compileShape({ stages: [], arrival_rate: [{ duration: "10s", rate: 200 }], arrival_process: "poisson" }, 7)!;
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

  it("a ramp stage's starts follow the planned curve: each second's count within 5 %", async () => {
    const { controller: c, telemetry } = testController({}, { scenariosDir: SHAPES });
    const starts: number[] = [];
    telemetry.on("user.started", () => starts.push(nowMs()));
    const t0 = nowMs();
    const r = await c.do("hold", 1, 1, { stages: [{ duration: "3s", target: 600 }, { duration: "1s", target: 600 }, { duration: "1s", target: 0 }] });
    expect(r.users).toBe(600);
    await until(() => starts.length === 600, 10_000, "600 starts");
    const first = Math.min(...starts);
    expect(first - t0).toBeLessThan(1000);
    const counts = perSecond(starts.map((t) => t - first), 3);
    for (const n of counts) expect(Math.abs(n - 200)).toBeLessThanOrEqual(10);
    // the ramp-down removes them all over its second
    await until(() => c.status().users.running === 0, 10_000, "ramp-down to 0");
    expect(c.status().users.removed).toBe(600);
    await c.stop();
  }, 20_000);

  it("an open model runs start() once per arrival unless repeat_num is given", async () => {
    const { controller: c } = testController({}, { scenariosDir: SHAPES });
    await c.do("hold", 1, 1, { arrival_rate: [{ duration: "200ms", rate: 50 }] });
    expect(c.status().settings.repeat_num).toBe(1);
    await c.stop();
  });

  it("bin/amoc run takes --stages, --arrival-rate, --poisson and --mix, and a shaped run ends with its last stage", () => {
    const o = parseRunArgs(["hold", "--stages", '[{"duration":"2s","target":10},{"duration":"1s","target":0}]']);
    expect(o.settings.stages).toEqual([{ duration: "2s", target: 10 }, { duration: "1s", target: 0 }]);
    expect(o.durationS).toBe(3);
    const p = parseRunArgs(["hold", "--arrival-rate", '[{"duration":"1m","target":50}]', "--poisson", "--mix", '{"a":3,"b":1}', "--duration", "10"]);
    expect(p.settings).toMatchObject({ arrival_rate: [{ duration: "1m", target: 50 }], arrival_process: "poisson", mix: { a: 3, b: 1 } });
    expect(p.durationS).toBe(10);
    expect(() => parseRunArgs(["hold", "--stages", "[{}]"])).toThrow(UsageError);
    expect(() => parseRunArgs(["hold"])).toThrow(/--users/);
  });
});
