/**
 * Timing: a load shape through a local controller on the wall clock. Unit tests (test/unit/stages.test.ts) check
 * every planned instant and removal exactly on fake time; this checks that real timers keep to the curve.
 */
import { describe, expect, it } from "vitest";
import { nowMs } from "../../src/users/schedule.js";
import { testController } from "../helpers/node.js";
import { perSecond } from "../helpers/shapes.js";
import { until } from "../helpers/wait.js";

const SHAPES = new URL("../fixtures/shapes", import.meta.url).pathname;

describe("load shapes on the wall clock", () => {
  it("a ramp stage's starts follow the planned curve: each second's count within 5 %", async () => {
    const { controller: c, telemetry } = testController({}, { scenariosDir: SHAPES });
    const starts: number[] = [];
    telemetry.on("user.started", () => starts.push(nowMs()));
    const t0 = nowMs();
    const r = await c.do("hold", 1, 1, {
      stages: [
        { duration: "3s", target: 600 },
        { duration: "1s", target: 600 },
        { duration: "1s", target: 0 },
      ],
    });
    expect(r.users).toBe(600);
    await until(() => starts.length === 600, 10_000, "600 starts");
    const first = Math.min(...starts);
    expect(first - t0).toBeLessThan(1000);
    const counts = perSecond(
      starts.map((t) => t - first),
      3,
    );
    for (const n of counts) expect(Math.abs(n - 200)).toBeLessThanOrEqual(10);
    // the ramp-down removes them all over its second
    await until(() => c.status().users.running === 0, 10_000, "ramp-down to 0");
    expect(c.status().users.removed).toBe(600);
    await c.stop();
  }, 20_000);
});
