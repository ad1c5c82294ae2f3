/**
 * The dashboard's server side, a fastify plugin of the REST server: the page at `/` and its assets under `/web/`
 * (open: they hold no data; the page asks for the token and sends it as a bearer header), and behind the REST auth
 * the live stream (server-sent events over a fetch, one frame a second), scenario sources and checks, and the node's
 * run history, reports and comparisons, all through the Node API (the replies' shapes are in wire.ts). The browser
 * code (web/src) is bundled with esbuild on first request.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ServerResponse } from "node:http";
import type { FastifyInstance, FastifyReply } from "fastify";
import { UsageError } from "../../errors.js";
import type { ProcessHealth } from "../../metrics/process-sampler.js";
import type { NodeApi } from "../../node/node-api.js";
import type { RunRecord } from "../../results/store-types.js";
import { bundleWeb } from "./bundle.js";
import { LiveFeed } from "./live-feed.js";
import type { CheckReply, CompareReply, RunRow, RunsReply, SourceReply, TicketReply } from "./wire.js";
import { CSP_REPORT } from "../rest/security-headers.js";
import type { Tickets } from "../rest/tickets.js";

/** Where the browser code lives (top-level web/). */
export const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "web");

/** What the dashboard needs beyond the REST API. */
export interface DashboardOptions {
  /** The node's API: live status and intervals, scenario sources and checks, and the node's run history. */
  api: NodeApi;
  /** This process's health. */
  health?: () => ProcessHealth;
  /** Live feed period (tests). */
  periodMs?: number;
  /** Report tickets (the REST server's: its auth hook redeems them). */
  tickets?: Tickets;
}

/** Scenario names as the loader and the upload store name them: never a path. */
const NAME = { type: "string", pattern: "^[A-Za-z0-9_-]{1,100}$" } as const;
const byName = { schema: { hide: true, params: { type: "object", properties: { name: NAME }, required: ["name"] } } };

const STATIC: Record<string, { file: () => string; type: string }> = {
  "/": { file: () => join(WEB_DIR, "index.html"), type: "text/html; charset=utf-8" },
  "/web/dashboard.css": { file: () => join(WEB_DIR, "dashboard.css"), type: "text/css; charset=utf-8" },
  // browsers ask for it on every load; an SVG (Chromium and Firefox take one under this name)
  "/favicon.ico": { file: () => join(WEB_DIR, "favicon.svg"), type: "image/svg+xml" },
  "/web/uplot.css": {
    file: () => join(dirname(createRequire(import.meta.url).resolve("uplot")), "uPlot.min.css"),
    type: "text/css; charset=utf-8",
  },
};

/** Registers the dashboard's routes on the REST app. */
export async function registerDashboard(app: FastifyInstance, o: DashboardOptions): Promise<void> {
  const feed = new LiveFeed({ api: o.api, health: o.health, periodMs: o.periodMs });
  const streams = new Set<ServerResponse>();
  // open streams are never idle: end them before the server closes, or closing would wait for every page to leave
  app.addHook("preClose", async () => {
    feed.close();
    for (const res of streams) res.end();
  });
  const hide = { schema: { hide: true } };

  for (const [path, s] of Object.entries(STATIC)) {
    app.get(path, hide, async (_req, reply) =>
      reply.type(s.type).header("cache-control", "no-cache").send(readFileSync(s.file())),
    );
  }
  app.get("/web/app.js", hide, async (_req, reply) =>
    reply
      .type("text/javascript; charset=utf-8")
      .header("cache-control", "no-cache")
      .send(await bundleWeb()),
  );

  app.get("/dashboard/stream", hide, (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(`event: history\ndata: ${JSON.stringify(feed.history())}\n\n`);
    const off = feed.subscribe((f) => res.write(`event: frame\ndata: ${JSON.stringify(f)}\n\n`));
    streams.add(res);
    req.raw.on("close", () => {
      streams.delete(res);
      off();
    });
  });

  app.get<{ Params: { name: string } }>(
    "/dashboard/scenarios/:name/source",
    byName,
    async (req): Promise<SourceReply> => o.api.scenarioSource(req.params.name),
  );

  // the Node API checks a built-in or uploaded scenario of that name, never a path
  const checkSchema = {
    hide: true,
    params: byName.schema.params,
    body: { type: "object", properties: { settings: { type: "object" } }, additionalProperties: false },
  };
  app.post<{ Params: { name: string }; Body: { settings?: Record<string, unknown> } }>(
    "/dashboard/scenarios/:name/check",
    { schema: checkSchema },
    async (req): Promise<CheckReply> => ({
      problems: await o.api.checkScenario(req.params.name, req.body?.settings ?? {}),
    }),
  );

  // every run of this node, whichever front end started it: they are all in the node's run store
  const runsSchema = {
    hide: true,
    querystring: {
      type: "object",
      properties: { limit: { type: "string", pattern: "^[0-9]{1,4}$" }, scenario: NAME },
      additionalProperties: false,
    },
  };
  app.get<{ Querystring: { limit?: string; scenario?: string } }>(
    "/dashboard/runs",
    { schema: runsSchema },
    async (req): Promise<RunsReply> => {
      const limit = Math.min(500, Math.max(1, Number(req.query.limit ?? 100) || 100));
      const scenario = req.query.scenario;
      return { runs: (await o.api.runs({ limit, ...(scenario ? { scenario } : {}) })).map(runRow) };
    },
  );
  app.get<{ Params: { id: string } }>("/dashboard/runs/:id/report", hide, async (req, reply: FastifyReply) => {
    const html = await o.api.report(req.params.id);
    // its own policy: inline script allowed but sandboxed (opaque origin), framed only by the dashboard
    return reply
      .type("text/html; charset=utf-8")
      .header("content-security-policy", CSP_REPORT)
      .header("x-frame-options", "SAMEORIGIN")
      .send(html);
  });
  // a ticket for one load of a report in a frame or a new tab (a URL cannot carry the bearer header)
  app.post<{ Params: { id: string } }>("/dashboard/runs/:id/ticket", hide, async (req): Promise<TicketReply> => {
    if (!o.tickets) throw new UsageError("this server issues no tickets", "fetch the report with the bearer header");
    const path = `/dashboard/runs/${encodeURIComponent(req.params.id)}/report`;
    return { url: `${path}?ticket=${o.tickets.issue(path)}` };
  });
  app.get<{ Querystring: { a?: string; b?: string } }>("/dashboard/compare", hide, async (req): Promise<CompareReply> =>
    o.api.compareRuns(String(req.query.a ?? ""), String(req.query.b ?? "")),
  );
}

/** A stored run as the History tab lists it. */
function runRow(r: RunRecord): RunRow {
  return {
    id: r.id,
    scenario: r.scenario,
    users: r.users,
    nodes: r.nodes,
    started_at: r.startedAt,
    ended_at: r.endedAt,
    verdict: r.verdict,
    exit_code: r.exitCode,
    source_hash: r.sourceHash,
    kind: r.kind,
  };
}
