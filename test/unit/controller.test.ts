import { describe, expect, it } from "vitest";
import { AmocError } from "../../src/errors.js";
import { testController } from "../helpers/node.js";
import { until } from "../helpers/wait.js";
import { seen } from "../fixtures/scenarios/lifecycle.js";

async function rejects(p: Promise<unknown> | (() => unknown), code: string): Promise<AmocError> {
  try {
    await (typeof p === "function" ? p() : p);
  } catch (e) {
    expect(e).toBeInstanceOf(AmocError);
    expect((e as AmocError).code).toBe(code);
    return e as AmocError;
  }
  throw new Error(`expected ${code}`);
}

describe("Controller", () => {
  it("goes idle -> running -> terminating -> finished, calling init once and terminate after the last user", async () => {
    const { controller: c, telemetry } = testController();
    const states: string[] = [];
    telemetry.on("controller.state", (e) => states.push(e.state));
    expect(c.state).toBe("idle");
    await c.do("lifecycle", 1, 5, { interarrival: 0, repeat_num: 1 });
    await c.whenNoUsers();
    const state = seen.at(-1)!;
    expect(state.starts.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(c.state).toBe("running"); // users finishing does not end the run: stop does
    await c.stop();
    expect(state.terminated).toBe(true);
    expect(states).toEqual(["running", "terminating", "finished"]);
    // a finished node may start a new run
    await c.do("lifecycle", 1, 1, { interarrival: 0, repeat_num: 1 });
    expect(c.state).toBe("running");
    await c.stop();
  });

  it("add continues after the highest ID ever issued", async () => {
    const { controller: c } = testController();
    await c.do("lifecycle", 1, 3, { interarrival: 0, repeat_num: 1 });
    expect(c.add(2)).toEqual({ from: 4, to: 5, users: 2 });
    await c.whenNoUsers();
    expect(seen.at(-1)!.starts.sort()).toEqual([1, 2, 3, 4, 5]);
    expect(c.add(1)).toEqual({ from: 6, to: 6, users: 1 });
    await c.stop();
  });

  it("an init that throws leaves the node in error with no user started, and the error in status", async () => {
    const { controller: c } = testController();
    const e = await rejects(c.do("init_throws", 1, 10), "SCENARIO_INIT_FAILED");
    expect(e.message).toMatch(/database unreachable/);
    expect(c.state).toBe("error");
    expect(c.status().users.started).toBe(0);
    expect(c.status().error?.message).toMatch(/database unreachable/);
  });

  it("a module without start is refused with a message naming the file", async () => {
    const { controller: c } = testController();
    const e = await rejects(c.do("no_start", 1, 1), "SCENARIO_INVALID");
    expect(e.message).toMatch(/no_start\.ts does not export a start function/);
  });

  it("an unknown scenario lists the available ones and keeps the state", async () => {
    const { controller: c } = testController();
    const e = await rejects(c.do("nope", 1, 1), "SCENARIO_NOT_FOUND");
    expect(e.hint).toMatch(/lifecycle/);
    expect(c.state).toBe("idle");
  });

  it("an undeclared run setting is an error naming the variable", async () => {
    const { controller: c } = testController();
    const e = await rejects(c.do("lifecycle", 1, 1, { greting: "x" }), "VARIABLE_UNDECLARED");
    expect(e.message).toMatch(/'greting' is not declared by .*lifecycle\.ts/);
  });

  it("calls in the wrong state return a clear error", async () => {
    const { controller: c } = testController();
    await rejects(() => c.add(1), "STATE_INVALID");
    await rejects(() => c.remove(1), "STATE_INVALID");
    await rejects(() => c.updateSettings({ delay_ms: 1 }), "STATE_INVALID");
    await rejects(c.stop(), "STATE_INVALID");
    await c.do("lifecycle", 1, 1, { interarrival: 0 });
    await rejects(c.do("lifecycle", 1, 1), "STATE_INVALID");
    await c.stop();
  });

  it("update_settings changes updatable variables live and refuses read-only ones", async () => {
    const { controller: c } = testController();
    await c.do("lifecycle", 1, 2, { interarrival: 0, repeat_num: "infinity", repeat_interval: 10, delay_ms: 0 });
    expect(c.updateSettings({ delay_ms: "5" })).toEqual({ delay_ms: 5 });
    expect(c.status().settings.delay_ms).toBe(5);
    await rejects(() => c.updateSettings({ greeting: "yo" }), "VARIABLE_READ_ONLY");
    await rejects(() => c.updateSettings({ interarrival: 1 }), "VARIABLE_READ_ONLY");
    await c.stop();
  });

  it("remove above the running count removes all running users and says how many", async () => {
    const { controller: c } = testController();
    await c.do("lifecycle", 1, 4, {
      interarrival: 0,
      repeat_num: "infinity",
      repeat_interval: 60_000,
      delay_ms: 60_000,
    });
    await until(() => c.status().users.running === 4);
    expect(c.remove(10, { force: true })).toEqual({ requested: 10, removed: 4, force: true });
    await until(() => c.status().users.running === 0);
    await c.stop();
  });
});
