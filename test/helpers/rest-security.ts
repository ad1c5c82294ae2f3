/**
 * The REST app with a token, allowed names, a rate limiter and tickets on an injected clock, listening on 127.0.0.1,
 * for test/unit/rest-security*.test.ts: raw requests with any Host and Origin, and a table of every route.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll } from "vitest";
import { FailureLimiter } from "../../src/api/rest/rate-limit.js";
import { buildRestApp } from "../../src/api/rest/server.js";
import { Tickets } from "../../src/api/rest/tickets.js";
import { createLogger } from "../../src/log.js";
import { FakeNodeApi } from "./fake-node-api.js";
import { syntheticRun } from "./results-synthetic.js";

const log = createLogger({ level: "silent", file: "", nodeName: "test" });
export const TOKEN = "security-test-token-0123456789";
export const GOOD = `export async function start(_id: number): Promise<void> {}\n`;

/** The commands the Node API received (a refused request must leave none). */
export const calls: string[] = [];

let dir: string;
export let fake: FakeNodeApi;
let now = 0;
let app: FastifyInstance;
export let port: number;
export let runId: string;

export async function build(o: { uploads?: boolean } = {}): Promise<FastifyInstance> {
  return buildRestApp({
    api: fake,
    token: TOKEN,
    log,
    names: { listenHost: "127.0.0.1", allowedHosts: ["amoc.lan"] },
    uploads: o.uploads,
    limiter: new FailureLimiter({ max: 10, windowMs: 60_000, now: () => now }),
    tickets: new Tickets(60_000, () => now),
    dashboard: { periodMs: 50 },
  });
}

/** Moves the clock the rate limiter and the tickets read. */
export function advance(ms: number): void {
  now += ms;
}

/** The secured app listening on a free port for the calling test file, with its scratch directory; closed after it. */
export function useSecureServer(): void {
  beforeAll(async () => {
    mkdirSync(resolve(".run/test"), { recursive: true });
    dir = mkdtempSync(join(resolve(".run/test"), "rest-security-"));
    fake = new FakeNodeApi({ dir });
    // every command the routes pass on is counted: a refused request must not reach the Node API
    const record = fake as unknown as Record<string, (...a: unknown[]) => unknown>;
    for (const m of ["start", "add", "remove", "updateSettings", "stop", "throttle", "upload"]) {
      const orig = record[m]!.bind(fake);
      record[m] = (...a: unknown[]) => (calls.push(m), orig(...a));
    }
    runId = syntheticRun({ storePath: join(dir, "runs.sqlite"), nodes: 1, seconds: 5, usersPerNode: 2 }).runId;
    app = await build();
    await app.listen({ host: "127.0.0.1", port: 0 });
    port = (app.server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request with full control of Host and Origin (fetch would not let us set Host); a stream answers at its headers. */
export function send(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolvePromise, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method, path, headers: { host: `127.0.0.1:${port}`, ...headers } },
      (res) => {
        if (String(res.headers["content-type"]).startsWith("text/event-stream")) {
          res.destroy();
          return resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: "" });
        }
        let text = "";
        res.on("data", (d: Buffer) => (text += d.toString()));
        res.on("end", () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export interface Route {
  method: string;
  path: string;
  /** A body the route accepts (JSON routes), or the raw upload. */
  body?: { type: string; text: string };
  /** Served without a token (liveness, the API's description, the page and its assets). */
  open?: boolean;
}

const OPEN = new Set(["/health", "/openapi.json", "/api-docs", "/"]);
const SAMPLE: Record<string, unknown> = {
  "/execution/start": { scenario: "dummy", users: 1 },
  "/execution/throttle": { op: "list" },
  "/execution/add_users": { users: 1 },
  "/execution/remove_users": { users: 1 },
  "/execution/update_settings": { settings: {} },
  "/execution/stop": {},
};

/** Every route of the OpenAPI document, then the dashboard's own (hidden from the document). */
export async function routes(): Promise<Route[]> {
  const doc = JSON.parse((await send("GET", "/openapi.json")).body) as {
    paths: Record<string, Record<string, unknown>>;
  };
  const out: Route[] = [];
  for (const [p, methods] of Object.entries(doc.paths)) {
    const path = p.replace("{node}", "n1").replace("{name}", "dummy");
    for (const m of Object.keys(methods)) {
      const method = m.toUpperCase();
      if (path === "/scenarios/upload")
        out.push({ method, path: "/scenarios/upload?name=sec_up", body: { type: "text/plain", text: GOOD } });
      else if (method === "GET") out.push({ method, path, open: OPEN.has(path) });
      else out.push({ method, path, body: { type: "application/json", text: JSON.stringify(SAMPLE[path] ?? {}) } });
    }
  }
  out.push(
    { method: "GET", path: "/", open: true },
    { method: "GET", path: "/web/app.js", open: true },
    { method: "GET", path: "/web/dashboard.css", open: true },
    { method: "GET", path: "/web/uplot.css", open: true },
    { method: "GET", path: "/api-docs/", open: true },
    { method: "GET", path: "/dashboard/stream" },
    { method: "GET", path: "/dashboard/scenarios/dummy/source" },
    {
      method: "POST",
      path: "/dashboard/scenarios/dummy/check",
      body: { type: "application/json", text: JSON.stringify({ settings: {} }) },
    },
    { method: "GET", path: "/dashboard/runs" },
    { method: "GET", path: `/dashboard/runs/${runId}/report` },
    { method: "POST", path: `/dashboard/runs/${runId}/ticket` },
    { method: "GET", path: `/dashboard/compare?a=${runId}&b=${runId}` },
  );
  return out;
}

export const auth = { authorization: `Bearer ${TOKEN}` };
export const withBody = (r: Route, extra: Record<string, string> = {}) =>
  send(r.method, r.path, { ...(r.body ? { "content-type": r.body.type } : {}), ...extra }, r.body?.text);
