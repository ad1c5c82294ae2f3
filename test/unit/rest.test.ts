/**
 * The REST routes over a test Node API (test/helpers/rest-app.ts): the read-only routes, auth and OpenAPI.
 * Uploads are in rest-upload.test.ts, execution routes in rest-execution.test.ts.
 */
import SwaggerParser from "@apidevtools/swagger-parser";
import { describe, expect, it } from "vitest";
import { checkAuthSettings, isLoopback } from "../../src/api/rest/auth.js";
import { app, build, GOOD, useRestApp } from "../helpers/rest-app.js";

useRestApp();

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
