import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRestApp } from "../../src/api/rest/server.js";
import { createLogger } from "../../src/log.js";
import { PrometheusMetrics } from "../../src/metrics/prometheus.js";
import { Telemetry } from "../../src/telemetry.js";
import { FakeNodeApi } from "../helpers/fake-node-api.js";

const TOKEN = "t".repeat(32);
let dir: string;
let app: FastifyInstance;
let prom: PrometheusMetrics;

beforeAll(async () => {
  mkdirSync(resolve(".run/test"), { recursive: true });
  dir = mkdtempSync(join(resolve(".run/test"), "rest-metrics-"));
  const telemetry = new Telemetry();
  prom = new PrometheusMetrics({ telemetry, nodeName: "n1" });
  telemetry.emit("user.started", { id: 1, lagMs: 0 });
  app = await buildRestApp({
    api: new FakeNodeApi({ dir }),
    token: TOKEN,
    log: createLogger({ level: "error", file: "", nodeName: "t" }),
    prometheus: prom,
  });
});

afterAll(async () => {
  await app.close();
  prom.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("GET /metrics on the REST API", () => {
  it("serves the exposition text to a scraper that sends the token and no Origin", async () => {
    const r = await app.inject({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toContain("text/plain");
    expect(r.body).toContain('amoc_users_running{node="n1",scenario="",run_id=""} 1');
  });

  it("refuses a scrape without the token, and a Host that does not name the node", async () => {
    expect((await app.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(401);
    const r = await app.inject({
      method: "GET",
      url: "/metrics",
      headers: { authorization: `Bearer ${TOKEN}`, host: "evil.example" },
    });
    expect(r.statusCode).toBe(421);
  });
});
