/**
 * The REST server (fastify 5): the app, its hooks and its error mapping; the routes are thin adapters over the Node
 * API in routes/ (node, scenarios, execution) and the dashboard's in ../web. Request validation and the OpenAPI 3
 * document come from the same schemas (schemas.ts), Swagger UI at /api-docs, optional TLS, and one error mapping:
 * AmocError codes through ERROR_STATUS, bad input 400 naming every problem, 413 above 1 MB, never 500 for input.
 * Every request first proves it is meant for this node (guard.ts: Host, Origin, Sec-Fetch-Site), then carries the
 * bearer token (auth.ts; wrong tokens rate-limited per address); JSON routes parse only `application/json` (a
 * cross-site form or "simple" fetch sends text/plain or form encoding: 415), the upload takes raw TypeScript.
 */
import { readFileSync } from "node:fs";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { AmocError, ConfigError, ERROR_STATUS, errorMessage } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { NodeApi } from "../../node/node-api.js";
import { UPLOAD_MAX_BYTES } from "../../scenario/upload-check.js";
import { checkBearer, isOpenPath } from "./auth.js";
import { requestGuard } from "./guard.js";
import { FailureLimiter } from "./rate-limit.js";
import { setSecurityHeaders } from "./security-headers.js";
import { Tickets } from "./tickets.js";
import { registerCapacityRoutes } from "./routes/capacity.js";
import { registerExecutionRoutes } from "./routes/execution.js";
import { registerNodeRoutes } from "./routes/node.js";
import { registerMetricsRoute, type MetricsSource } from "./routes/metrics.js";
import { registerScenarioRoutes } from "./routes/scenarios.js";
import { registerDashboard, type DashboardOptions } from "../web/dashboard.js";

/** How to build the server. */
export interface RestAppOptions {
  /** The node's API: every route is a thin adapter over it (uploads, checks and history included). */
  api: NodeApi;
  /** Bearer token every request but the open paths needs ('' = none: api_auth=off). */
  token: string;
  /** Who the node is (the Host and Origin checks): listen address and api_allowed_hosts; default loopback only. */
  names?: { listenHost: string; allowedHosts: readonly string[] };
  /** The listen port when the server is not listening itself (fastify.inject in tests); else the socket's. */
  port?: number;
  /** Accept PUT /scenarios/upload (api_uploads); default true. */
  uploads?: boolean;
  /** Wrong-token counting (tests inject a clock). */
  limiter?: FailureLimiter;
  /** Report tickets (tests inject a clock). */
  tickets?: Tickets;
  log: Logger;
  /** PEM files: serve HTTPS. */
  tls?: { cert: string; key: string };
  /** The version shown in the OpenAPI document. */
  version?: string;
  /** Serve GET /metrics for Prometheus (the node's series). */
  prometheus?: MetricsSource;
  /** Serve the web dashboard at `/` (src/api/web). */
  dashboard?: Omit<DashboardOptions, "api" | "tickets">;
}

/** Builds the fastify app with every route (not listening yet). */
export async function buildRestApp(o: RestAppOptions): Promise<FastifyInstance> {
  const https = o.tls ? readTls(o.tls) : null;
  const app = Fastify({
    bodyLimit: UPLOAD_MAX_BYTES,
    logger: false,
    ...(https ? { https } : {}),
    // reject unknown properties instead of stripping them, never coerce types, and report every problem at once
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
  }) as unknown as FastifyInstance;

  app.setErrorHandler((err: FastifyError, req, reply) => sendError(err, req, reply, o.log));
  app.setNotFoundHandler(
    (req, reply) =>
      void reply.code(404).send({
        error: "NOT_FOUND",
        message: `no route ${req.method} ${req.url.split("?")[0]}`,
        hint: "GET /openapi.json lists every route; Swagger UI is at /api-docs",
      }),
  );

  const guard = requestGuard({
    listenHost: o.names?.listenHost ?? "127.0.0.1",
    allowedHosts: o.names?.allowedHosts ?? [],
    tls: Boolean(https),
    port: () => {
      const a = app.server.address();
      return typeof a === "object" && a ? a.port : o.port;
    },
  });
  app.addHook("onRequest", async (req, reply) => {
    setSecurityHeaders(reply.raw, req.url.split("?")[0] as string);
    guard(req);
  });
  const tickets = o.tickets ?? new Tickets();
  if (o.token) {
    const limiter = o.limiter ?? new FailureLimiter();
    app.addHook("onRequest", async (req, reply) => {
      if (isOpenPath(req.url)) return;
      if (reportTicket(req, tickets)) return;
      const wait = limiter.retryAfter(req.ip);
      if (wait > 0) {
        void reply.header("retry-after", String(wait));
        return reply.code(429).send({
          error: "API_RATE_LIMITED",
          message: `too many wrong tokens from ${req.ip}: try again in ${wait} s`,
          hint: "the token is in the node's data directory (api.json); bin/amoc on the same machine finds it",
        });
      }
      const r = checkBearer(req.headers.authorization, o.token);
      if (!r.ok) {
        if (r.status === 403) limiter.fail(req.ip);
        if (r.status === 401) void reply.header("www-authenticate", 'Bearer realm="amoc"');
        return reply.code(r.status).send({
          error: r.status === 401 ? "UNAUTHORIZED" : "FORBIDDEN",
          message: r.message,
          hint: "bin/amoc on the node's machine reads the token from its data directory; elsewhere set AMOC_API_TOKEN or --token-file FILE (the node printed the token at start, and keeps it in <data dir>/api.json)",
        });
      }
    });
  }
  // only application/json is parsed as JSON: fastify's own text/plain parser would hand a string to the JSON
  // routes, and a text/plain body is what a cross-site page can send without a preflight
  app.removeContentTypeParser("text/plain");

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: { title: "amoc-ts REST API", version: o.version ?? "0.1.0", description: API_DESCRIPTION },
      components: { securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } } },
      tags: [{ name: "node" }, { name: "scenarios" }, { name: "execution" }],
    },
  });
  await app.register(swaggerUi, { routePrefix: "/api-docs" });
  app.get("/openapi.json", { schema: { tags: ["node"], summary: "this OpenAPI 3 document" } }, async () =>
    app.swagger(),
  );

  registerNodeRoutes(app, o.api);
  if (o.prometheus) registerMetricsRoute(app, o.prometheus);
  await registerScenarioRoutes(app, o.api, { uploads: o.uploads ?? true });
  registerExecutionRoutes(app, o.api);
  registerCapacityRoutes(app, o.api);
  if (o.dashboard) await registerDashboard(app, { ...o.dashboard, api: o.api, tickets });
  return app;
}

const API_DESCRIPTION = [
  "Drive an amoc-ts node or cluster: amoc 2.x paths, JSON settings, uploaded TypeScript scenarios.",
  "**An uploaded scenario is code that runs with the node's rights** (it may import node:child_process): whoever can upload can run programs as the node's user. The import allow-list of the upload check is hygiene, not a sandbox. A node started with `AMOC_API_UPLOADS=off` answers 403 to uploads.",
  "Every route but /health, /openapi.json, /api-docs and the dashboard page needs `Authorization: Bearer <token>`; with no AMOC_API_TOKEN the node generates one and keeps it in its data directory (`api.json`, mode 0600), where bin/amoc on the same machine finds it. After 10 wrong tokens a minute an address gets 429.",
  "Every request must name the node in its Host header (localhost, 127.0.0.1, [::1], the listen address, AMOC_API_ALLOWED_HOSTS): else 421. PUT/PATCH/POST/DELETE from another origin (Origin, Sec-Fetch-Site) are 403. JSON bodies need `content-type: application/json` (else 415).",
].join("\n\n");

/** The report route opened by a ticket (tickets.ts): a frame or a new tab cannot send the bearer header. */
function reportTicket(req: FastifyRequest, tickets: Tickets): boolean {
  if (req.method !== "GET") return false;
  const [path, query = ""] = req.url.split("?") as [string, string?];
  if (!/^\/dashboard\/runs\/[^/]+\/report$/.test(path)) return false;
  const t = new URLSearchParams(query).get("ticket");
  return t !== null && tickets.redeem(path, t);
}

function readTls(t: { cert: string; key: string }): { cert: Buffer; key: Buffer } {
  try {
    return { cert: readFileSync(t.cert), key: readFileSync(t.key) };
  } catch (e) {
    throw new ConfigError([
      {
        key: "api_tls_cert",
        source: "AMOC_API_TLS_CERT / AMOC_API_TLS_KEY",
        message: `cannot read the TLS files: ${errorMessage(e)}`,
      },
    ]);
  }
}

/** One mapping from anything thrown to a status and a body: client problems are 4xx and say what to fix. */
function sendError(err: FastifyError, req: FastifyRequest, reply: FastifyReply, log: Logger): FastifyReply {
  if (err.validation) {
    const where = err.validationContext ?? "body";
    const problems = err.validation.map((v) => {
      const extra =
        v.keyword === "additionalProperties"
          ? ` '${(v.params as { additionalProperty?: string }).additionalProperty}'`
          : "";
      return { path: `${where}${v.instancePath}`, message: `${v.message ?? "is invalid"}${extra}` };
    });
    return reply.code(400).send({
      error: "BAD_REQUEST",
      message: problems.map((p) => `${p.path} ${p.message}`).join("; "),
      hint: "GET /openapi.json (or /api-docs) describes every body",
      problems,
    });
  }
  if (err instanceof AmocError) {
    const status = ERROR_STATUS[err.code]?.http ?? 500;
    if (status >= 500)
      log.warn({
        msg: "rest_command_failed",
        method: req.method,
        url: req.url.split("?")[0],
        code: err.code,
        err: err.message,
      });
    const problems = "problems" in err ? { problems: (err as { problems: unknown }).problems } : {};
    return reply.code(status).send({ error: err.code, message: err.message, hint: err.hint, ...problems });
  }
  const status = typeof err.statusCode === "number" ? err.statusCode : 500;
  if (status >= 400 && status < 500) {
    const hint =
      status === 413
        ? `bodies are limited to ${UPLOAD_MAX_BYTES} bytes`
        : status === 415
          ? "send JSON with content-type: application/json (other bodies are refused: a cross-site page can send text/plain or form data); PUT /scenarios/upload takes raw TypeScript"
          : "check the request";
    return reply.code(status).send({ error: err.code ?? "BAD_REQUEST", message: err.message, hint });
  }
  log.error({
    msg: "rest_internal_error",
    method: req.method,
    url: req.url.split("?")[0],
    err: errorMessage(err),
    stack: err.stack,
  });
  return reply.code(500).send({ error: "INTERNAL", message: errorMessage(err), hint: "see the node's log" });
}
