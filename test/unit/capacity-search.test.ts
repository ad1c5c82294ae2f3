import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { capacitySearch, type CapacityOptions } from "../../src/node/capacity/search.js";
import { formatCapacity } from "../../src/node/capacity/format.js";
import { renderCapacityReport } from "../../src/node/capacity/report.js";
import { Histogram } from "../../src/results/histogram.js";
import { parseThresholds } from "../../src/results/thresholds.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { FakeNodeApi } from "../helpers/fake-node-api.js";

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);

/**
 * A server model: connections take 5 ms up to `knee` users and 2000 ms beyond; `exhaustAt` users and more make the
 * generator's users crash on EMFILE. The fake API's users are counted from its start/add calls.
 */
function setup(o: { knee: number; exhaustAt?: number }) {
  const dir = mkdtempSync(join(tmpdir(), "amoc-cap-"));
  const clock = new FakeClock(T0);
  const api = new FakeNodeApi({ dir });
  const users = () =>
    api.calls.reduce((n, [name, args]) => {
      if (name === "start") return n + ((args[0] as { users: number }).users ?? 0);
      if (name === "add") return n + (args[0] as number);
      return n;
    }, 0);
  clock.setInterval(() => {
    const n = users();
    if (!n || api.state !== "running") return;
    const h = new Histogram();
    for (let i = 0; i < 100; i++) h.recordMs(n > o.knee ? 2000 : 5);
    const c: Record<string, number> = { "xmpp.connections": 100 };
    if (o.exhaustAt && n >= o.exhaustAt) c["crash_reasons.connect:EMFILE"] = 3;
    const t = clock.now() - 1000;
    api.emit({
      type: "interval",
      interval: { v: 1, node: "n1", t, ms: 1000, c, g: {}, h: { "xmpp.connection": h.encode() } },
    });
  }, 1000);
  const opts: CapacityOptions = {
    scenario: "dummy",
    start: 100,
    step: 100,
    max: 1000,
    holdMs: 5000,
    intervalMs: 1000,
    slos: parseThresholds(["xmpp.connection.p99<1000", "users.crashed==0"]),
  };
  return { dir, clock, api, opts };
}

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

async function search(o: { knee: number; exhaustAt?: number }) {
  const s = setup(o);
  dirs.push(s.dir);
  const p = capacitySearch(s.api, s.clock, s.opts);
  let r;
  void p.then((x) => (r = x));
  while (!r) await s.clock.advance(500);
  return { r: r as Awaited<typeof p>, api: s.api };
}

describe("capacity search", () => {
  it("steps up to the first failing step: the capacity is the last passing one, with the SLO that broke and by how much", async () => {
    const { r, api } = await search({ knee: 300 });
    expect(r.steps.map((s) => [s.users, s.ok])).toEqual([
      [100, true],
      [200, true],
      [300, true],
      [400, false],
    ]);
    expect(r.capacity).toBe(300);
    expect(r.broke).toMatchObject({ slo: "xmpp.connection.p99<1000", limit: 1000 });
    expect(r.broke?.actual).toBeGreaterThan(1000);
    expect(r.generatorLimited).toBeNull();
    expect(api.calls.map(([n]) => n)).toEqual(["start", "add", "add", "add", "stop"]);
    expect(formatCapacity(r)).toMatch(/capacity: 300 users/);
    const html = renderCapacityReport(r);
    expect(html).toContain("knee: 300 users");
    expect(html.match(/<figure>/g)).toHaveLength(2);
  });

  it("a failing step whose users crashed on fd exhaustion is reported as generator-limited, not as the capacity", async () => {
    const { r } = await search({ knee: 10_000, exhaustAt: 200 });
    expect(r.steps.at(-1)?.users).toBe(200);
    expect(r.generatorLimited).toMatch(/fd\/port exhaustion.*connect:EMFILE/);
    expect(formatCapacity(r)).toMatch(/capacity: not measured: the failing step was limited by the generator/);
  });

  it("refuses bad options before anything starts", async () => {
    const s = setup({ knee: 1 });
    dirs.push(s.dir);
    await expect(capacitySearch(s.api, s.clock, { ...s.opts, slos: [], holdMs: 500 })).rejects.toThrow(UsageError);
    expect(s.api.calls).toEqual([]);
  });
});
