import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { capacityCompareText } from "../../src/api/commands/capacity-compare.js";
import { History } from "../../src/node/history.js";
import type { CapacityRequest } from "../../src/node/capacity/request.js";
import { RunStore } from "../../src/results/store.js";
import { capacityModel, T0 } from "../helpers/capacity-model.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const req: CapacityRequest = {
  scenario: "dummy",
  slos: ["xmpp.connection.p99<1000", "users.crashed==0"],
  start: 100,
  step: 100,
  max: 1000,
  hold: "5s",
};

describe("a capacity search in the run store", () => {
  it("is stored as a run of kind capacity with its steps, listed, compared with another and reported with its knee", async () => {
    const m = capacityModel({ knee: 300 });
    dirs.push(m.dir);
    // the fake API records no runs itself: its runs run-1 and run-2 as the run service would have opened them
    const store = RunStore.open(m.api.storePath);
    for (const [i, id] of ["run-1", "run-2", "run-3"].entries())
      store.createRun({
        id,
        scenario: "dummy",
        settings: {},
        nodes: ["n1"],
        users: 100,
        intervalMs: 1000,
        startedAt: T0 + i,
      });
    store.close();
    await m.until(m.api.startCapacity(req));
    expect((await m.until(m.api.capacityResult()))?.capacity).toBe(300);
    // the next server version holds less
    m.server.knee = 200;
    m.rearm();
    await m.until(m.api.startCapacity(req));
    expect((await m.until(m.api.capacityResult()))?.capacity).toBe(200);

    const h = new History(m.api.storePath);
    const kinds = Object.fromEntries((await h.runs()).map((r) => [r.id, r.kind]));
    expect(kinds).toEqual({ "run-1": "capacity", "run-2": "capacity", "run-3": "run" });
    // a search's run counts the users of its largest step, not of its first
    const users = Object.fromEntries((await h.runs()).map((r) => [r.id, r.users]));
    expect(users).toEqual({ "run-1": 400, "run-2": 300, "run-3": 100 });
    const read = RunStore.open(m.api.storePath, { readonly: true });
    const c = read.capacity("run-1");
    read.close();
    expect(c?.capacity).toBe(300);
    expect(c?.steps.map((s) => [s.users, s.ok, s.slos.map((x) => x.expr)])).toEqual(
      [100, 200, 300, 400].map((u) => [u, u <= 300, req.slos]),
    );
    expect(c?.steps[0]?.to).toBeGreaterThan(c?.steps[0]?.from ?? Infinity);
    expect(c?.broke?.slo).toBe("xmpp.connection.p99<1000");

    const cmp = await h.compareRuns("run-1", "run-2");
    expect(cmp.capacity?.capacity).toEqual({ a: 300, b: 200, changePct: -33.3, regression: true });
    const at300 = cmp.capacity?.steps.find((s) => s.users === 300)?.slos[0];
    expect(at300).toMatchObject({ slo: "xmpp.connection.p99<1000", okA: true, okB: false });
    expect(at300?.a).toBeLessThan(1000);
    expect(at300?.b).toBeGreaterThan(1000);
    expect(cmp.capacity?.steps.find((s) => s.users === 400)?.slos[0]).toMatchObject({ b: null });
    const text = capacityCompareText(cmp.a, cmp.b, cmp.capacity!);
    expect(text).toMatch(/capacity {2}A 300 {2}B 200 {2}-33\.3% {2}! regression: B holds less/);
    expect(text).toMatch(/300 +xmpp\.connection\.p99<1000 +\S+ +\S+ FAILED/);

    const html = await h.report("run-1");
    expect(html).toContain("knee: 300 users");
    expect(html.match(/<figure>/g)).toHaveLength(2);
    expect(html).toContain("users online");
    // a plain run keeps its run report
    expect(await h.report("run-3")).not.toContain("Capacity search");
  });
});
