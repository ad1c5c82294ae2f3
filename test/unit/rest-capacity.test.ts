/** The capacity search over REST (fastify.inject over the fake Node API on fake time, its server model). */
import { rmSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { buildRestApp } from "../../src/api/rest/server.js";
import { createLogger } from "../../src/log.js";
import { capacityModel } from "../helpers/capacity-model.js";

const log = createLogger({ level: "silent", file: "", nodeName: "test" });
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const body = { scenario: "dummy", slos: ["xmpp.connection.p99<1000"], start: 100, step: 100, max: 1000, hold: "5s" };

async function setup() {
  const m = capacityModel({ knee: 200 });
  dirs.push(m.dir);
  const app = await buildRestApp({ api: m.api, token: "", log });
  const send = (method: "GET" | "PATCH", url: string, payload?: object) =>
    m.until(app.inject({ method, url, ...(payload ? { payload } : {}) }));
  return { m, app, send };
}

describe("REST capacity search", () => {
  it("starts a search, a second start gets 409 saying one runs, GET follows it to its capacity", async () => {
    const { m, app, send } = await setup();
    expect((await send("GET", "/execution/capacity")).json()).toEqual({ state: "none" });
    const r = await send("PATCH", "/execution/capacity", body);
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ state: "running", scenario: "dummy", by: "users", run_id: "run-1", steps: [] });
    const again = await send("PATCH", "/execution/capacity", body);
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ error: "STATE_INVALID" });
    expect(again.json().message).toMatch(/a capacity search is already running \(dummy, run run-1/);
    await m.until(m.api.capacityResult());
    const done = (await send("GET", "/execution/capacity")).json();
    expect(done.state).toBe("done");
    expect(done.result.capacity).toBe(200);
    expect(done.steps.map((s: { users: number }) => s.users)).toEqual([100, 200, 300]);
    expect(done.steps[2].slos[0]).toMatchObject({ expr: "xmpp.connection.p99<1000", ok: false });
    await app.close();
  });

  it("refuses a bad body with 400 naming the problem, and nothing starts", async () => {
    const { m, app, send } = await setup();
    for (const bad of [
      { ...body, slos: [] },
      { ...body, by: "sideways" },
      { ...body, hold: "soon" },
      { ...body, start: 0 },
      { ...body, extra: 1 },
      { ...body, refine: 500 },
      { ...body, slos: ["no such threshold"] },
    ]) {
      const r = await send("PATCH", "/execution/capacity", bad);
      expect(r.statusCode, JSON.stringify(bad)).toBe(400);
      expect(r.json().message.length).toBeGreaterThan(5);
    }
    expect(m.api.calls).toEqual([]);
    expect((await send("GET", "/execution/capacity")).json()).toEqual({ state: "none" });
    await app.close();
  });

  it("a stop ends the search and answers with its end", async () => {
    const { m, app, send } = await setup();
    await send("PATCH", "/execution/capacity", { ...body, max: 100_000, slos: ["users.crashed==0"] });
    await m.clock.advance(7000);
    const r = await send("PATCH", "/execution/capacity/stop");
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ state: "done", result: { stopped: true, capacity: 100 } });
    expect(m.api.calls.at(-1)?.[0]).toBe("stop");
    await app.close();
  });
});
