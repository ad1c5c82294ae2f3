/**
 * The REST routes over a test Node API (fastify.inject; test/helpers/fake-node-api.ts, with the node's real scenario
 * catalog): bodies, status codes, uploads, thresholds and the stop's verdict, auth, OpenAPI.
 */
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import SwaggerParser from "@apidevtools/swagger-parser";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRestApp } from "../../src/api/rest/server.js";
import { checkAuthSettings, isLoopback } from "../../src/api/rest/auth.js";
import { createLogger } from "../../src/log.js";
import { FakeNodeApi } from "../helpers/fake-node-api.js";

const log = createLogger({ level: "silent", file: "", nodeName: "test" });

const GOOD = `import { defineVariables } from "amoc-ts";
export const variables = defineVariables({ rounds: { default: 2, doc: "rounds per user", verify: (v: number) => v > 0 || "must be > 0" } });
export async function start(_id: number): Promise<void> {}
`;

// scratch and upload directories inside the project, so `amoc-ts` resolves from the uploaded files
const ROOT = resolve(".run/test");
let dir: string;
let fake: FakeNodeApi;
let app: FastifyInstance;

async function build(token = ""): Promise<FastifyInstance> {
  return buildRestApp({ api: fake, token, log });
}

beforeAll(async () => {
  mkdirSync(ROOT, { recursive: true });
  dir = mkdtempSync(join(ROOT, "rest-"));
  fake = new FakeNodeApi({ dir, nodeName: "w1" });
  app = await build();
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

const upload = (name: string, body: string, headers: Record<string, string> = {}) =>
  app.inject({ method: "PUT", url: `/scenarios/upload?name=${encodeURIComponent(name)}`, payload: body, headers });
const patch = (path: string, body?: unknown) =>
  app.inject({
    method: "PATCH",
    url: `/execution/${path}`,
    ...(body === undefined ? {} : { payload: body as object }),
  });

describe("read-only routes", () => {
  it("health answers ok without a token", async () => {
    const r = await app.inject("/health");
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: "ok", node: "w1", mode: "local" });
  });
  it("nodes maps each node to up or down as amoc 2.x does", async () => {
    const r = await app.inject("/nodes");
    expect(r.json().nodes).toEqual({ w1: "up" });
    expect(r.json().details[0].name).toBe("w1");
  });
  it("status and status of one node answer; an unknown node is 404", async () => {
    expect((await app.inject("/status")).json()).toMatchObject({ amoc_status: "up", mode: "local" });
    expect((await app.inject("/status/w1")).json()).toMatchObject({ amoc_status: "up", node: "w1" });
    const r = await app.inject("/status/nope");
    expect(r.statusCode).toBe(404);
    expect(r.json().error).toBe("NODE_NOT_FOUND");
    expect((await app.inject("/status/a.b")).statusCode).toBe(400);
  });
  it("scenario info and defaults come from the declared variables; unknown names are 404, malformed 400", async () => {
    const info = (await app.inject("/scenarios/info/dummy")).json();
    expect(info.parameters.dummy_sleep_ms).toEqual({
      description: "ms each run of start() sleeps",
      default_value: 0,
      updatable: true,
    });
    expect((await app.inject("/scenarios/defaults/dummy")).json()).toEqual({ settings: { dummy_sleep_ms: 0 } });
    expect((await app.inject("/scenarios/info/nope")).statusCode).toBe(404);
    expect((await app.inject("/scenarios/defaults/nope")).statusCode).toBe(404);
    expect((await app.inject("/scenarios/info/..%2Fetc")).statusCode).toBe(400);
  });
  it("an unknown route is a JSON 404", async () => {
    const r = await app.inject("/nope");
    expect(r.statusCode).toBe(404);
    expect(r.json().error).toBe("NOT_FOUND");
  });
});

describe("scenario upload", () => {
  it("accepts TypeScript with no content type, lists it with its version, and gives its info", async () => {
    const r = await upload("up_one", GOOD);
    expect(r.statusCode).toBe(200);
    const body = r.json();
    expect(body).toMatchObject({ compile: "ok", name: "up_one", unchanged: false });
    expect(body.version).toMatch(/^[0-9a-f]{16}$/);
    const list = (await app.inject("/scenarios")).json();
    expect(list.scenarios).toContain("dummy");
    expect(list.scenarios.at(-1)).toBe("up_one");
    expect(list.details).toContainEqual({ name: "up_one", source: "uploaded", version: body.version });
    const info = (await app.inject("/scenarios/info/up_one")).json();
    expect(info).toMatchObject({ name: "up_one", source: "uploaded", version: body.version });
    expect((await app.inject("/scenarios/defaults/up_one")).json()).toEqual({ settings: { rounds: 2 } });
  });
  it("takes any content type, JSON included, as source; the same source again is unchanged", async () => {
    const r = await upload("up_one", GOOD, { "content-type": "application/json" });
    expect(r.statusCode).toBe(200);
    expect(r.json().unchanged).toBe(true);
  });
  it("a re-upload makes a new version that the next start uses; the start names the scenario, never a file", async () => {
    const v1 = (await upload("up_two", GOOD)).json().version;
    const v2 = (await upload("up_two", GOOD.replace("default: 2", "default: 3"))).json().version;
    expect(v2).not.toBe(v1);
    fake.state = "idle";
    const r = await patch("start", { scenario: "up_two", users: 3 });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ scenario: "up_two", version: v2, run_id: expect.any(String) });
    expect(fake.calls.at(-1)![1][0]).toEqual({ scenario: "up_two", users: 3 });
    fake.state = "idle";
  });
  it("a syntax error is a 400 with file, line and column", async () => {
    const r = await upload("bad_syntax", "export async function start() {\n  const x: number = ;\n}\n");
    expect(r.statusCode).toBe(400);
    expect(r.json().error).toBe("UPLOAD_INVALID");
    expect(r.json().problems[0]).toMatchObject({ file: "bad_syntax.ts", line: 2, column: 21 });
  });
  it("a missing start export and a default failing verify are each named", async () => {
    const src = `import { defineVariables } from "amoc-ts";\nexport const variables = defineVariables({ n: { default: -1, doc: "n", verify: (v: number) => v > 0 || "must be > 0" } });\n`;
    const r = await upload("no_start", src);
    expect(r.statusCode).toBe(400);
    const msgs = r
      .json()
      .problems.map((p: { message: string }) => p.message)
      .join("\n");
    expect(msgs).toMatch(/no `start` export/);
    expect(msgs).toMatch(/variable 'n'.*must be > 0/);
  });
  it("relative and unknown imports are 400s naming the import and its place", async () => {
    const r = await upload(
      "rel_import",
      `import { x } from "./helpers.js";\nexport async function start() { return x; }\n`,
    );
    expect(r.statusCode).toBe(400);
    expect(r.json().problems[0]).toMatchObject({ line: 1, message: expect.stringContaining("'./helpers.js'") });
    const u = await upload(
      "pkg_import",
      `\n\nimport y from "left-pad-nope";\nexport async function start() { return y; }\n`,
    );
    expect(u.statusCode).toBe(400);
    expect(u.json().problems[0]).toMatchObject({
      line: 3,
      message: expect.stringContaining("'left-pad-nope' does not resolve"),
    });
  });
  it("a top-level throw is a 400 with the loading error", async () => {
    const r = await upload("throws", `export async function start() {}\nthrow new Error("boom at load");\n`);
    expect(r.statusCode).toBe(400);
    expect(r.json().problems[0].message).toMatch(/boom at load/);
  });
  it("names with paths, dots or nothing are 400; a built-in name is refused", async () => {
    for (const name of ["../x", "a.b", "", "a-b"]) {
      const r = await upload(name, GOOD);
      expect(r.statusCode, name).toBe(400);
    }
    expect((await app.inject({ method: "PUT", url: "/scenarios/upload", payload: GOOD })).statusCode).toBe(400);
    const b = await upload("dummy", GOOD);
    expect(b.statusCode).toBe(400);
    expect(b.json().message).toMatch(/built-in/);
  });
  it("an empty body is 400 and a 2 MB body is 413", async () => {
    expect((await upload("empty", "")).statusCode).toBe(400);
    const r = await upload("big", "x".repeat(2 * 1024 * 1024));
    expect(r.statusCode).toBe(413);
    expect(r.json().error).toBe("FST_ERR_CTP_BODY_TOO_LARGE");
  });
});

describe("execution routes", () => {
  it("start, add, remove, update_settings and stop pass their bodies to the Node API", async () => {
    fake.state = "idle";
    expect(
      (
        await patch("start", {
          scenario: "dummy",
          users: 5,
          settings: { interarrival: 0 },
          nodes: ["w1"],
          comment: "c",
        })
      ).statusCode,
    ).toBe(200);
    expect((await patch("add_users", { users: 2, labels: { zone: "a" } })).statusCode).toBe(200);
    expect(fake.calls.at(-1)).toEqual(["add", [2, { labels: { zone: "a" } }]]);
    expect((await patch("remove_users", { users: 1, force: true })).statusCode).toBe(200);
    expect(fake.calls.at(-1)).toEqual(["remove", [1, { force: true }]]);
    expect((await patch("update_settings", { settings: { dummy_sleep_ms: 5 } })).statusCode).toBe(200);
    expect((await patch("stop")).statusCode).toBe(200);
    expect(fake.calls.at(-1)).toEqual(["stop", [{}]]);
  });
  it("a start passes its thresholds to the Node API, and the stop's reply carries how the run ended", async () => {
    fake.state = "idle";
    const thresholds = ["xmpp.message_ttd.p99<50", "users.crashed==0"];
    const start = await patch("start", { scenario: "dummy", users: 2, thresholds });
    expect(start.statusCode).toBe(200);
    expect(start.json()).toMatchObject({ run_id: expect.any(String), scenario: "dummy" });
    expect(fake.calls.at(-1)).toEqual(["start", [{ scenario: "dummy", users: 2, thresholds }]]);
    fake.nextEnd = {
      verdict: "breached",
      exit_code: 3,
      thresholds: [{ expr: "users.crashed==0", ok: false, actual: 1, message: "users.crashed was 1, wanted == 0" }],
    } as never;
    const stop = await patch("stop", {});
    expect(stop.statusCode).toBe(200);
    expect(stop.json().run).toMatchObject({
      run_id: start.json().run_id,
      verdict: "breached",
      exit_code: 3,
      thresholds: [{ expr: "users.crashed==0", ok: false }],
      summary: { scenario: "dummy" },
    });
    fake.nextEnd = {};
  });
  it("a threshold that is not a string, or an empty one, is 400 before anything starts", async () => {
    fake.state = "idle";
    const before = fake.calls.length;
    expect((await patch("start", { scenario: "dummy", users: 1, thresholds: [5] })).statusCode).toBe(400);
    expect((await patch("start", { scenario: "dummy", users: 1, thresholds: [""] })).statusCode).toBe(400);
    expect(fake.calls.length).toBe(before);
  });
  it("a throttle operation goes to the Node API with its selector apart", async () => {
    const r = await patch("throttle", { op: "change_rate", name: "t", config: { rate: 5 }, nodes: ["w1"] });
    expect(r.statusCode).toBe(200);
    expect(fake.calls.at(-1)).toEqual([
      "throttle",
      [
        { op: "change_rate", name: "t", config: { rate: 5 } },
        { nodes: ["w1"], labels: undefined },
      ],
    ]);
  });
  it("a command in the wrong state is 409", async () => {
    fake.state = "idle";
    const r = await patch("add_users", { users: 1 });
    expect(r.statusCode).toBe(409);
    expect(r.json().error).toBe("STATE_INVALID");
  });
  it("an unknown scenario is 404", async () => {
    fake.state = "idle";
    expect((await patch("start", { scenario: "nope", users: 1 })).statusCode).toBe(404);
  });
  it("a bad body is 400 naming every problem", async () => {
    const r = await patch("start", { scenario: "dummy", users: "3", extra: 1, nodes: "w1" });
    expect(r.statusCode).toBe(400);
    const paths = r.json().problems.map((p: { path: string; message: string }) => `${p.path} ${p.message}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^body\/users must be integer/),
        expect.stringMatching(/additional properties 'extra'/),
        expect.stringMatching(/^body\/nodes must be array/),
      ]),
    );
    expect((await patch("add_users", {})).json().message).toMatch(/users/);
    expect((await patch("update_settings", { settings: {} })).statusCode).toBe(400);
    expect((await patch("remove_users", { users: 0 })).statusCode).toBe(400);
    expect(
      (
        await app.inject({
          method: "PATCH",
          url: "/execution/start",
          payload: "{nope",
          headers: { "content-type": "application/json" },
        })
      ).statusCode,
    ).toBe(400);
  });
  it("a JSON body sent as a form or as text/plain is 415 naming application/json, and nothing starts", async () => {
    fake.state = "idle";
    const before = fake.calls.length;
    for (const type of ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"]) {
      const r = await app.inject({
        method: "PATCH",
        url: "/execution/start",
        payload: JSON.stringify({ scenario: "dummy", users: 1 }),
        headers: { "content-type": type },
      });
      expect(r.statusCode).toBe(415);
      expect(r.json().hint).toMatch(/application\/json/);
    }
    expect(fake.calls.length).toBe(before);
  });
  it("a start range of more users than one start may ask for, or a user ID above 10^12, is 400", async () => {
    fake.state = "idle";
    expect((await patch("start", { scenario: "dummy", from: 1, to: 200_000_000 })).statusCode).toBe(400);
    expect((await patch("start", { scenario: "dummy", from: 1, to: 2e12 })).statusCode).toBe(400);
    expect((await patch("start", { scenario: "dummy", users: 1, from: 2e12 })).statusCode).toBe(400);
  });
});

describe("auth", () => {
  it("auth may be turned off on loopback only, and never together with a token", () => {
    expect(() => checkAuthSettings({ api_host: "0.0.0.0", api_token: "", api_auth: "off" })).toThrow(/AMOC_API_AUTH/);
    expect(() => checkAuthSettings({ api_host: "0.0.0.0", api_token: "", api_auth: "token" })).not.toThrow();
    expect(() =>
      checkAuthSettings({ api_host: "0.0.0.0", api_token: "t".repeat(16), api_auth: "token" }),
    ).not.toThrow();
    expect(() => checkAuthSettings({ api_host: "127.0.0.1", api_token: "", api_auth: "off" })).not.toThrow();
    expect(() => checkAuthSettings({ api_host: "127.0.0.1", api_token: "t".repeat(16), api_auth: "off" })).toThrow(
      /AMOC_API_TOKEN/,
    );
    expect(["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"].every(isLoopback)).toBe(true);
    expect(["0.0.0.0", "10.0.0.1", "::", "example.com"].some(isLoopback)).toBe(false);
  });
  it("with a token, requests need the bearer token: 401 without, 403 wrong; health and docs stay open", async () => {
    const secured = await build("s3cret");
    try {
      expect((await secured.inject("/status")).statusCode).toBe(401);
      expect((await secured.inject("/status")).headers["www-authenticate"]).toMatch(/Bearer/);
      expect((await secured.inject({ url: "/status", headers: { authorization: "Basic abc" } })).statusCode).toBe(401);
      expect((await secured.inject({ url: "/status", headers: { authorization: "Bearer wrong" } })).statusCode).toBe(
        403,
      );
      expect((await secured.inject({ url: "/status", headers: { authorization: "Bearer s3cret" } })).statusCode).toBe(
        200,
      );
      expect((await secured.inject({ method: "PUT", url: "/scenarios/upload?name=x", payload: GOOD })).statusCode).toBe(
        401,
      );
      expect((await secured.inject("/health")).statusCode).toBe(200);
      expect((await secured.inject("/openapi.json")).statusCode).toBe(200);
      expect((await secured.inject("/api-docs/")).statusCode).toBe(200);
      expect((await secured.inject("/api-docsx")).statusCode).toBe(401);
    } finally {
      await secured.close();
    }
  });
});

describe("OpenAPI", () => {
  it("the document is valid OpenAPI 3 and lists every route", async () => {
    const doc = (await app.inject("/openapi.json")).json();
    await SwaggerParser.validate(structuredClone(doc));
    expect(doc.openapi).toMatch(/^3\./);
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    expect(routes.sort()).toEqual(
      [
        "GET /health",
        "GET /nodes",
        "GET /status",
        "GET /status/{node}",
        "GET /scenarios",
        "GET /scenarios/info/{name}",
        "GET /scenarios/defaults/{name}",
        "GET /openapi.json",
        "PUT /scenarios/upload",
        "PATCH /execution/start",
        "PATCH /execution/stop",
        "PATCH /execution/capacity",
        "GET /execution/capacity",
        "PATCH /execution/capacity/stop",
        "PATCH /execution/add_users",
        "PATCH /execution/remove_users",
        "PATCH /execution/update_settings",
        "PATCH /execution/throttle",
      ].sort(),
    );
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: "http", scheme: "bearer" });
  });
  it("Swagger UI is served at /api-docs", async () => {
    const r = await app.inject("/api-docs/");
    expect(r.statusCode).toBe(200);
    expect(r.body).toMatch(/swagger/i);
  });
});
