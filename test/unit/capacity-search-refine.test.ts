import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { StateError, UsageError } from "../../src/errors.js";
import type { CapacityRequest } from "../../src/node/capacity/request.js";
import { renderCapacityReport } from "../../src/node/capacity/report.js";
import { capacityModel } from "../helpers/capacity-model.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const req: CapacityRequest = {
  scenario: "dummy",
  slos: ["xmpp.connection.p99<1000"],
  start: 100,
  step: 100,
  max: 1000,
  hold: "5s",
};

function model(o: Parameters<typeof capacityModel>[0]) {
  const m = capacityModel(o);
  dirs.push(m.dir);
  return m;
}

describe("capacity search: refine, by rate, one at a time, stop", () => {
  it("--refine bisects between the last good and the first bad step down to the resolution", async () => {
    const m = model({ knee: 262 });
    await m.until(m.api.startCapacity({ ...req, refine: 10 }));
    const r = (await m.until(m.api.capacityResult()))!;
    // steps 100, 200, 300 (bad), then 250 ok, 275 bad, 263 bad, 257 ok (263 - 257 <= 10)
    expect(r.steps.map((s) => [s.users, s.ok])).toEqual([
      [100, true],
      [200, true],
      [300, false],
      [250, true],
      [275, false],
      [263, false],
      [257, true],
    ]);
    expect(r.capacity).toBe(257);
    expect(m.api.calls.filter(([n]) => n === "remove").map(([, a]) => a[0])).toEqual([50, 12, 6]);
  });

  it("judges an SLO on the server under test's figures over each step's window, and each step carries them", async () => {
    const m = model({ knee: 1000, serverCpuPerUser: 0.003 });
    await m.until(m.api.startCapacity({ ...req, slos: ["sut.process_cpu.max<0.9"] }));
    const r = await m.until(m.api.capacityResult());
    expect(r?.capacity).toBe(200);
    expect(r?.broke).toMatchObject({ slo: "sut.process_cpu.max<0.9", actual: 0.9 });
    expect(r?.steps.map((s) => s.server?.["sut.process_cpu"])).toEqual([0.3, 0.6, 0.9]);
    // the report's table shows the server's CPU beside each step's SLOs
    const html = renderCapacityReport(r!);
    expect(html).toContain("<th>server CPU (cores)</th>");
    expect(html).toContain("<td>0.90</td>");
  });

  it("--by rate steps over the users started per second: a batch each interval, the capacity in users/s", async () => {
    const m = model({ knee: 250, byRate: true });
    await m.until(m.api.startCapacity({ ...req, by: "rate" }));
    const r = (await m.until(m.api.capacityResult()))!;
    expect(r.by).toBe("rate");
    expect(r.steps.map((s) => s.users)).toEqual([100, 200, 300]);
    expect(r.capacity).toBe(200);
    // a 5 s hold at 200 users/s: five batches of 200
    const adds = m.api.calls.filter(([n]) => n === "add").map(([, a]) => a[0]);
    expect(adds.filter((n) => n === 200)).toHaveLength(5);
  });

  it("a second search while one runs is refused with a clear message, and the first goes on unchanged", async () => {
    const m = model({ knee: 300 });
    await m.until(m.api.startCapacity(req));
    const calls = m.api.calls.length;
    await expect(m.api.startCapacity({ ...req, start: 500 })).rejects.toThrow(StateError);
    await expect(m.api.startCapacity({ ...req, start: 500 })).rejects.toThrow(/already running.*one search at a time/);
    expect(m.api.calls.length).toBe(calls);
    const r = (await m.until(m.api.capacityResult()))!;
    expect(r.capacity).toBe(300);
  });

  it("bad options are refused before anything starts, and leave no search behind", async () => {
    const m = model({ knee: 300 });
    await expect(m.api.startCapacity({ ...req, refine: 100 })).rejects.toThrow(UsageError);
    await expect(m.api.startCapacity({ ...req, hold: "1s" })).rejects.toThrow(/at least two intervals/);
    await expect(m.api.startCapacity({ ...req, slos: ["nonsense"] })).rejects.toThrow(UsageError);
    expect(m.api.calls).toEqual([]);
    expect(m.api.capacityProgress()).toBeNull();
  });

  it("a stop ends the search within an interval, without judging the step under way, and stops the users", async () => {
    const m = model({ knee: 10_000 });
    await m.until(m.api.startCapacity(req));
    await m.clock.advance(8000); // step 100 judged (5 s hold + 1 s), step 200 under way
    expect(m.api.capacityProgress()?.steps.map((s) => s.users)).toEqual([100]);
    const p = (await m.until(m.api.stopCapacity()))!;
    expect(p.state).toBe("done");
    expect(p.result?.stopped).toBe(true);
    expect(p.result?.steps.map((s) => s.users)).toEqual([100]);
    expect(p.result?.capacity).toBe(100);
    expect(m.api.calls.at(-1)?.[0]).toBe("stop");
  });
});
