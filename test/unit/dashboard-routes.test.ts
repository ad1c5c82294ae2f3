/**
 * The dashboard's routes on the REST app (fastify.inject): the page and its bundled assets are open, everything
 * with data needs the bearer token; scenario sources, the variable check, and the run store's history and reports.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRestApp } from "../../src/api/rest/server.js";
import { Tickets } from "../../src/api/rest/tickets.js";
import { checkVariables } from "../../src/node/scenarios/check-variables.js";
import type { Frame, RunsReply } from "../../src/api/web/wire.js";
import { createLogger } from "../../src/log.js";
import { Histogram } from "../../src/results/histogram.js";
import { FakeNodeApi } from "../helpers/fake-node-api.js";
import { syntheticRun } from "../helpers/results-synthetic.js";

const log = createLogger({ level: "silent", file: "", nodeName: "test" });
const TOKEN = "t0ken";
const auth = { authorization: `Bearer ${TOKEN}` };

let dir: string;
let app: FastifyInstance;
let fake: FakeNodeApi;

beforeAll(async () => {
  mkdirSync(resolve(".run/test"), { recursive: true });
  dir = mkdtempSync(join(resolve(".run/test"), "dash-routes-"));
  fake = new FakeNodeApi({ dir });
  app = await buildRestApp({ api: fake, token: TOKEN, log, tickets: new Tickets(), dashboard: {} });
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("dashboard routes", () => {
  it("serves the page, its bundled script and uPlot's CSS without a token", async () => {
    const page = await app.inject({ url: "/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    expect(page.body).toContain('src="/web/app.js"');
    const js = await app.inject({ url: "/web/app.js" });
    expect(js.statusCode).toBe(200);
    expect(js.headers["content-type"]).toMatch(/javascript/);
    // uPlot is bundled in, not fetched from a CDN
    expect(js.body).not.toMatch(/https?:\/\/(cdn|unpkg|jsdelivr)/);
    expect(js.body.length).toBeGreaterThan(20_000);
    expect((await app.inject({ url: "/web/uplot.css" })).body).toContain(".uplot");
  }, 30_000);

  it("refuses the data routes without the token or with a wrong one", async () => {
    expect((await app.inject({ url: "/dashboard/runs" })).statusCode).toBe(401);
    expect((await app.inject({ url: "/dashboard/runs", headers: { authorization: "Bearer nope" } })).statusCode).toBe(
      403,
    );
    expect((await app.inject({ url: "/dashboard/scenarios/dummy/source" })).statusCode).toBe(401);
    expect((await app.inject({ url: "/dashboard/stream" })).statusCode).toBe(401);
  });

  it("returns a built-in scenario's source and checks form values against its variables, through the Node API", async () => {
    const src = await app.inject({ url: "/dashboard/scenarios/dummy/source", headers: auth });
    expect(src.json()).toMatchObject({ name: "dummy", source: "builtin" });
    expect(src.json().text).toContain("dummy_sleep_ms");
    const nope = await app.inject({ url: "/dashboard/scenarios/nope/source", headers: auth });
    expect(nope.statusCode).toBe(404);
    expect(nope.json().error).toBe("SCENARIO_NOT_FOUND");
    const check = await app.inject({
      method: "POST",
      url: "/dashboard/scenarios/dummy/check",
      headers: auth,
      payload: { settings: { dummy_sleep_ms: -1, bogus: 1, interarrival: 5 } },
    });
    expect(check.json().problems).toEqual([
      { key: "dummy_sleep_ms", message: expect.any(String) },
      { key: "bogus", message: "the scenario declares no such variable" },
    ]);
  });

  it("lists no runs before any is recorded, then the node's runs, their report and a comparison", async () => {
    expect((await app.inject({ url: "/dashboard/runs", headers: auth })).json()).toEqual({ runs: [] });
    const a = syntheticRun({ storePath: fake.storePath, nodes: 2, seconds: 10, usersPerNode: 5 });
    const b = syntheticRun({ storePath: fake.storePath, nodes: 2, seconds: 10, usersPerNode: 8 });
    const list = (await app.inject({ url: "/dashboard/runs", headers: auth })).json() as RunsReply;
    expect(list.runs.map((r) => r.id).sort()).toEqual([a.runId, b.runId].sort());
    expect(list.runs[0]).toMatchObject({ scenario: expect.any(String), verdict: expect.any(String) });
    // one scenario's runs, as bin/amoc runs --name lists them
    const one = (await app.inject({ url: "/dashboard/runs?scenario=one_to_one&limit=1", headers: auth })).json();
    expect(one.runs).toHaveLength(1);
    expect([a.runId, b.runId]).toContain(one.runs[0].id);
    const none = await app.inject({ url: "/dashboard/runs?scenario=dummy", headers: auth });
    expect(none.json()).toEqual({ runs: [] });
    expect((await app.inject({ url: "/dashboard/runs?scenario=..%2Fx", headers: auth })).statusCode).toBe(400);
    const report = await app.inject({ url: `/dashboard/runs/${a.runId}/report`, headers: auth });
    expect(report.statusCode).toBe(200);
    expect(report.body).toMatch(/^<!doctype html>/i);
    const cmp = (await app.inject({ url: `/dashboard/compare?a=${a.runId}&b=${b.runId}`, headers: auth })).json();
    expect(cmp).toMatchObject({ a: a.runId, b: b.runId });
    expect(cmp.metrics.length).toBeGreaterThan(0);
  });
});

describe("the live stream", () => {
  it("sends the kept history, then a frame a second, and never holds the server open when it closes", async () => {
    const own = await buildRestApp({ api: fake, token: TOKEN, log, dashboard: { periodMs: 50 } });
    await own.listen({ host: "127.0.0.1", port: 0 });
    const port = (own.server.address() as { port: number }).port;
    const r = await fetch(`http://127.0.0.1:${port}/dashboard/stream`, { headers: auth });
    expect(r.headers.get("content-type")).toBe("text/event-stream");
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while ((text.match(/event: frame/g) ?? []).length < 2) text += (await reader.read()).value ?? "";
    expect(text.startsWith("event: history\ndata: [")).toBe(true);
    const frame = JSON.parse(/event: frame\ndata: (.*)\n/.exec(text)![1]!) as Frame;
    expect(frame).toMatchObject({ mode: "local", nodes: [{ name: "n1", state: "idle" }] });
    // the page follows the Node API's watch stream while it listens
    expect(fake.watching).toBe(1);
    await own.close();
    // the stream was ended by the server, and the feed stopped watching
    while (!(await reader.read()).done);
    expect(fake.watching).toBe(0);
  });

  it("takes the timings of a frame from the intervals the Node API's watch stream brings", async () => {
    const own = await buildRestApp({ api: fake, token: TOKEN, log, dashboard: { periodMs: 50 } });
    await own.listen({ host: "127.0.0.1", port: 0 });
    const port = (own.server.address() as { port: number }).port;
    const r = await fetch(`http://127.0.0.1:${port}/dashboard/stream`, { headers: auth });
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    const h = new Histogram();
    h.recordMs(7);
    const t = Math.floor(Date.now() / 1000) * 1000 - 1000;
    // the feed subscribed when the stream opened: one interval, then frames until one is drawn from it
    expect(fake.watching).toBe(1);
    fake.emit({
      type: "interval",
      interval: {
        v: 1,
        node: "n1",
        t,
        ms: 1000,
        c: { "xmpp.messages_sent": 4 },
        g: {},
        h: { "xmpp.message_ttd": h.encode() },
      },
    });
    const frames: Frame[] = [];
    let text = "";
    while (!frames.some((f) => f.series === "intervals")) {
      text += (await reader.read()).value ?? "";
      const cut = text.lastIndexOf("\n\n") + 2;
      for (const m of text.slice(0, cut).matchAll(/event: frame\ndata: (.*)\n/g))
        frames.push(JSON.parse(m[1]!) as Frame);
      text = text.slice(cut);
    }
    const f = frames.find((x) => x.series === "intervals")!;
    expect(f.timings.ttd?.p50).toBeCloseTo(7, 0);
    expect(f.rates.messages).toBe(4);
    await own.close();
  });
});

describe("checkVariables (the start form's check, in the node's scenario catalog)", () => {
  it("parses values with the type of the default and runs verify", () => {
    const decls = {
      n: { default: 1, doc: "n", verify: (v: number) => v > 0 || "must be > 0" },
      s: { default: "x", doc: "s" },
    };
    expect(checkVariables(decls, { n: "3", s: "y" })).toEqual([]);
    expect(checkVariables(decls, { n: "abc" })).toEqual([{ key: "n", message: "must be a number" }]);
    expect(checkVariables(decls, { n: 0 })).toEqual([{ key: "n", message: "must be > 0" }]);
    expect(checkVariables(decls, { repeat_num: 1 })).toEqual([]);
  });
});
