/**
 * The dashboard's routes on the REST app (fastify.inject): the page and its bundled assets are open, everything
 * with data needs the bearer token; scenario sources, the variable check, and the run store's history and reports.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRestApp } from "../../src/api/rest/server.js";
import { UploadingApi } from "../../src/api/rest/uploading-api.js";
import { checkVariables } from "../../src/api/web/check-variables.js";
import { createLogger } from "../../src/log.js";
import type { ApiStatus, CommandResult, NodeApi } from "../../src/node/node-api.js";
import { DirScenarioStore } from "../../src/scenario/upload-dir-store.js";
import { syntheticRun } from "../helpers/results-synthetic.js";

const log = createLogger({ level: "silent", file: "", nodeName: "test" });
const TOKEN = "t0ken";
const auth = { authorization: `Bearer ${TOKEN}` };

const done: CommandResult = { nodes: { n1: { ok: true, result: {} } } };
const fake: NodeApi = {
  mode: "local",
  nodeName: "n1",
  nodes: async () => [{ name: "n1", role: "local", labels: {}, state: "idle", running: 0 }],
  status: async () =>
    ({
      mode: "local",
      run: null,
      users: { running: 0, started: 0, finished: 0, crashed: 0, removed: 0, pending: 0, removing: 0 },
      nodes: {},
    }) as ApiStatus,
  nodeStatus: async () => {
    throw new Error("unused");
  },
  scenarios: async () => [{ name: "dummy", source: "builtin" }],
  scenarioInfo: async () => ({ name: "dummy", source: "builtin", variables: [] }),
  start: async () => done,
  add: async () => done,
  remove: async () => done,
  updateSettings: async () => done,
  stop: async () => done,
};

let dir: string;
let app: FastifyInstance;
let runStorePath: string;

beforeAll(async () => {
  mkdirSync(resolve(".run/test"), { recursive: true });
  dir = mkdtempSync(join(resolve(".run/test"), "dash-routes-"));
  runStorePath = join(dir, "runs.sqlite");
  const store = new DirScenarioStore(join(dir, "uploads"));
  const api = new UploadingApi(fake, async () => store, join(dir, "check"), resolve("scenarios"));
  app = await buildRestApp({
    api,
    token: TOKEN,
    log,
    dashboard: {
      scenariosDir: resolve("scenarios"),
      runStorePath,
      uploaded: async () => null,
    },
  });
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

  it("returns a built-in scenario's source and checks form values against its variables", async () => {
    const src = await app.inject({ url: "/dashboard/scenarios/dummy/source", headers: auth });
    expect(src.json()).toMatchObject({ name: "dummy", source: "builtin" });
    expect(src.json().text).toContain("dummy_sleep_ms");
    expect((await app.inject({ url: "/dashboard/scenarios/nope/source", headers: auth })).statusCode).toBe(400);
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

  it("lists no runs before the store exists, then the stored runs, their report and a comparison", async () => {
    expect((await app.inject({ url: "/dashboard/runs", headers: auth })).json()).toEqual({ store: false, runs: [] });
    const a = syntheticRun({ storePath: runStorePath, nodes: 2, seconds: 10, usersPerNode: 5 });
    const b = syntheticRun({ storePath: runStorePath, nodes: 2, seconds: 10, usersPerNode: 8 });
    const list = (await app.inject({ url: "/dashboard/runs", headers: auth })).json();
    expect(list.runs.map((r: { id: string }) => r.id).sort()).toEqual([a.runId, b.runId].sort());
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
    const store = new DirScenarioStore(join(dir, "uploads2"));
    const own = await buildRestApp({
      api: new UploadingApi(fake, async () => store, join(dir, "check2"), resolve("scenarios")),
      token: TOKEN,
      log,
      dashboard: { scenariosDir: resolve("scenarios"), runStorePath, uploaded: async () => null, periodMs: 50 },
    });
    await own.listen({ host: "127.0.0.1", port: 0 });
    const port = (own.server.address() as { port: number }).port;
    const r = await fetch(`http://127.0.0.1:${port}/dashboard/stream`, { headers: auth });
    expect(r.headers.get("content-type")).toBe("text/event-stream");
    const reader = r.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while ((text.match(/event: frame/g) ?? []).length < 2) text += (await reader.read()).value ?? "";
    expect(text.startsWith("event: history\ndata: [")).toBe(true);
    const frame = JSON.parse(/event: frame\ndata: (.*)\n/.exec(text)![1]!);
    expect(frame).toMatchObject({ mode: "local", nodes: [{ name: "n1", state: "idle" }] });
    await own.close();
    // the stream was ended by the server
    while (!(await reader.read()).done);
  });
});

describe("checkVariables", () => {
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
