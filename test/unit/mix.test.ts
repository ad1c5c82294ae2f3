import { describe, expect, it } from "vitest";
import { mixOf, mixRound, scenarioOf } from "../../src/shapes/mix.js";
import { AmocError } from "../../src/errors.js";
import { testController } from "../helpers/node.js";
import { until } from "../helpers/wait.js";

const SHAPES = new URL("../fixtures/shapes", import.meta.url).pathname;

describe("scenario mix", () => {
  it("a mix of 3:1 over 4,000 users gives 3,000 and 1,000", () => {
    const round = mixRound({ one_to_one: 3, muc: 1 });
    const counts: Record<string, number> = {};
    for (let id = 1; id <= 4000; id++) counts[scenarioOf(round, id)] = (counts[scenarioOf(round, id)] ?? 0) + 1;
    expect(counts).toEqual({ one_to_one: 3000, muc: 1000 });
  });

  it("spreads the weights through the round instead of running them in blocks", () => {
    expect(mixRound({ a: 2, b: 2 })).toEqual(["a", "b", "a", "b"]);
    const r = mixRound({ a: 5, b: 3 });
    expect(r.filter((x) => x === "a")).toHaveLength(5);
    expect(r.slice(0, 2).sort()).toEqual(["a", "b"]);
  });

  it("reads the mix from the run settings (JSON string allowed) over the node's, and refuses bad weights", () => {
    expect(mixOf({ mix: '{"a": 1}' }, { b: 1 })).toEqual({ a: 1 });
    expect(mixOf({}, { b: 2 })).toEqual({ b: 2 });
    expect(mixOf({}, {})).toBeUndefined();
    expect(() => mixOf({ mix: { a: 0 } }, undefined)).toThrow(AmocError);
  });

  it("runs each ID's scenario with its own state, tags metrics and crashes by scenario, and add keeps the mix", async () => {
    const { controller: c, telemetry } = testController({}, { scenariosDir: SHAPES });
    const metrics: Record<string, number> = {};
    telemetry.on("metric", (e) => (metrics[e.name] = (metrics[e.name] ?? 0) + e.value));
    const r = await c.do("both", 1, 3000, { interarrival: 0, repeat_num: 1, mix: { mix_a: 3, mix_b: 1 } });
    expect(r.scenario).toBe("both");
    await until(() => c.status().users.started === 3000, 10_000, "3000 starts");
    c.add(1000);
    await until(() => c.status().users.pending === 0 && c.status().users.running === 0, 10_000, "all ended");
    expect(metrics["mix_a.done"]).toBe(3000);
    expect(metrics["mix_b.done"]).toBe(1000);
    expect(metrics.done).toBe(4000);
    const s = c.status();
    // the round is [a, a, b, a]: mix_b holds the IDs 3 mod 4, so 3, 103, ..., 3903 crash
    expect(s.users.crashed).toBe(40);
    expect(s.errors).toMatchObject([
      { reason: "mix_b/talk:error: boom", phase: "mix_b/talk", message: "boom", count: 40 },
    ]);
    await c.stop();
  }, 20_000);
});
