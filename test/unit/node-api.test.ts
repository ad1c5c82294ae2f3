import { describe, expect, it, onTestFinished } from "vitest";
import { ERROR_STATUS, NodeNotFoundError } from "../../src/errors.js";
import { testController } from "../helpers/node.js";
import { code } from "../helpers/error-code.js";
import { testService } from "../helpers/node-service.js";

function api(labels: Record<string, string> = { zone: "a" }) {
  const { controller, settings } = testController();
  const svc = testService({ controller, scenariosDir: settings.scenarios_dir, labels });
  onTestFinished(svc.cleanup);
  return { api: svc.api, controller };
}

describe("the local Node API", () => {
  it("answers per node, keyed by this node's name, with totals", async () => {
    const { api: a } = api();
    const started = await a.start({ scenario: "lifecycle", users: 3, settings: { interarrival: 0, repeat_num: 1 } });
    expect(started.users).toBe(3);
    expect(started.nodes).toEqual({ test: { ok: true, result: { scenario: "lifecycle", from: 1, to: 3, users: 3 } } });
    const s = await a.status();
    expect(s.mode).toBe("local");
    expect(s.run).toMatchObject({ state: "running", scenario: "lifecycle" });
    expect(Object.keys(s.nodes)).toEqual(["test"]);
    expect(await a.nodes()).toEqual([
      { name: "test", role: "local", labels: { zone: "a" }, state: "running", running: expect.any(Number) },
    ]);
    const stopped = await a.stop();
    expect(stopped.nodes.test).toMatchObject({ ok: true, result: { state: "finished" } });
  });

  it("an unknown node is NODE_NOT_FOUND, which is HTTP 404 and exit 2", async () => {
    const { api: a } = api();
    expect(await code(a.nodeStatus("elsewhere"))).toBe("NODE_NOT_FOUND");
    expect(await code(a.start({ scenario: "lifecycle", users: 1, nodes: ["elsewhere"] }))).toBe("NODE_NOT_FOUND");
    expect(await code(a.start({ scenario: "lifecycle", users: 1, labels: { zone: "b" } }))).toBe("NODE_NOT_FOUND");
    expect(ERROR_STATUS.NODE_NOT_FOUND).toEqual({ exit: 2, http: 404 });
    expect(new NodeNotFoundError("x", "y").code).toBe("NODE_NOT_FOUND");
  });

  it("passes the controller's errors through as AmocErrors", async () => {
    const { api: a } = api();
    expect(await code(a.add(1))).toBe("STATE_INVALID");
    expect(await code(a.start({ scenario: "no_such", users: 1 }))).toBe("SCENARIO_NOT_FOUND");
    expect(await code(a.start({ scenario: "lifecycle" }))).toBe("USAGE");
  });

  it("lists scenarios and a scenario's variables", async () => {
    const { api: a } = api();
    expect((await a.scenarios()).map((s) => s.name)).toContain("lifecycle");
    const info = await a.scenarioInfo("lifecycle");
    expect(info).toMatchObject({ name: "lifecycle", source: "builtin" });
    expect(Array.isArray(info.variables)).toBe(true);
  });
});
