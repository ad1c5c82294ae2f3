/**
 * The JSON schemas of every route, written once: fastify validates requests with them and @fastify/swagger builds
 * the OpenAPI 3 document from them. Bodies reject unknown properties; every problem is reported at once.
 */
import { MAX_TIMER_MS as MAX_TIMER } from "../../config/formats.js";
import { UPLOAD_NAME_RE } from "../../scenario/upload-check.js";
import {
  anyObject,
  common,
  errors,
  nodeName,
  scenarioName,
  selector,
  settings,
  stopReply,
  tag,
  userId,
  users,
} from "./schema-parts.js";

/** Route schemas by route. */
export const routeSchemas = {
  health: {
    tags: ["node"],
    summary: "liveness: 200 while the server runs (no token needed)",
    response: {
      200: {
        type: "object",
        properties: { status: { type: "string" }, node: { type: "string" }, mode: { type: "string" } },
        required: ["status"],
      },
    },
  },
  nodes: {
    ...tag("node"),
    summary: "the nodes: {nodes: {name: up|down}} as amoc 2.x, plus details",
    response: {
      200: {
        type: "object",
        properties: {
          nodes: { type: "object", additionalProperties: { type: "string" } },
          details: { type: "array", items: anyObject },
        },
        required: ["nodes"],
      },
      ...errors(...common),
    },
  },
  status: {
    ...tag("node"),
    summary: "the run, user totals and every node's status",
    response: { 200: anyObject, ...errors(...common, 502, 503) },
  },
  nodeStatus: {
    ...tag("node"),
    summary: "one node's status",
    params: { type: "object", properties: { node: nodeName }, required: ["node"] },
    response: { 200: anyObject, ...errors(...common, 404, 502, 503) },
  },
  scenarios: {
    ...tag("scenarios"),
    summary: "built-in and uploaded scenarios: {scenarios: [name]} as amoc 2.x, plus details with versions",
    response: {
      200: {
        type: "object",
        properties: {
          scenarios: { type: "array", items: { type: "string" } },
          details: { type: "array", items: anyObject },
        },
        required: ["scenarios"],
      },
      ...errors(...common),
    },
  },
  scenarioInfo: {
    ...tag("scenarios"),
    summary: "a scenario's variables (doc, default, updatable) and version",
    params: { type: "object", properties: { name: scenarioName }, required: ["name"] },
    response: { 200: anyObject, ...errors(...common, 404) },
  },
  scenarioDefaults: {
    ...tag("scenarios"),
    summary: "the defaults of a scenario's variables: {settings: {name: value}}",
    params: { type: "object", properties: { name: scenarioName }, required: ["name"] },
    response: {
      200: { type: "object", properties: { settings: anyObject }, required: ["settings"] },
      ...errors(...common, 404),
    },
  },
  upload: {
    ...tag("scenarios"),
    summary:
      "upload a scenario's TypeScript source (the raw body, any content type: curl -T my.ts); compiled and loaded before it is stored",
    description:
      "Stored by content hash on every node. Uploading a name again makes a new version: a running run keeps its version, the next start takes the newest. 400 lists each problem with file, line and column; 413 above 1 MB.",
    consumes: ["text/plain", "application/octet-stream", "application/typescript"],
    querystring: {
      type: "object",
      properties: {
        name: {
          type: "string",
          pattern: UPLOAD_NAME_RE.source,
          description: "the scenario's name: letters, digits, '_'",
        },
      },
      required: ["name"],
      additionalProperties: false,
    },
    body: { type: "string", description: "TypeScript source of the scenario" },
    response: {
      200: {
        type: "object",
        properties: {
          compile: { type: "string", enum: ["ok"] },
          name: { type: "string" },
          version: { type: "string" },
          unchanged: { type: "boolean" },
        },
        required: ["compile", "name", "version", "unchanged"],
      },
      ...errors(...common, 413, 503),
    },
  },
  start: {
    ...tag("execution"),
    summary: "start a run: users from..from+users-1 (or from..to) of a scenario, dealt over the nodes",
    body: {
      type: "object",
      properties: {
        scenario: scenarioName,
        users,
        from: userId,
        to: userId,
        settings,
        thresholds: {
          type: "array",
          items: { type: "string", minLength: 1, maxLength: 200 },
          maxItems: 100,
          description:
            "pass/fail targets judged on the run's merged results when it ends, besides the node's configured ones, e.g. 'xmpp.message_ttd.p99<50'; the stop's reply carries the verdict (every run is recorded: bin/amoc runs, the dashboard's History)",
        },
        ...selector,
      },
      required: ["scenario"],
      additionalProperties: false,
    },
    response: { 200: anyObject, ...errors(...common, 404, 409, 502, 503) },
  },
  throttle: {
    ...tag("execution"),
    summary:
      "act on a cluster-wide throttle: start, change_rate, change_rate_gradually, pause, resume, stop or list (rates are for the whole cluster; each node paces its share)",
    body: {
      type: "object",
      properties: {
        op: {
          type: "string",
          enum: ["start", "change_rate", "change_rate_gradually", "pause", "resume", "stop", "list"],
        },
        name: { type: "string", minLength: 1, maxLength: 200 },
        config: {
          type: "object",
          properties: {
            rate: { type: "number", minimum: 0 },
            interval: { type: "number", minimum: 1, maximum: MAX_TIMER },
            interarrival: { type: "number", minimum: 0, maximum: MAX_TIMER },
          },
          additionalProperties: false,
          description: "rate per interval ms (default 60000), or interarrival ms",
        },
        gradual: {
          type: "object",
          properties: {
            from: { type: "number", minimum: 0 },
            to: { type: "number", minimum: 0 },
            overMs: { type: "number", minimum: 0, maximum: MAX_TIMER },
            steps: { type: "integer", minimum: 1, maximum: 1_000_000 },
            interval: { type: "number", minimum: 1, maximum: MAX_TIMER },
          },
          required: ["from", "to", "overMs"],
          additionalProperties: false,
        },
        ...selector,
      },
      required: ["op"],
      additionalProperties: false,
    },
    response: { 200: anyObject, ...errors(...common, 404, 409, 502, 503) },
  },
  stop: {
    ...tag("execution"),
    summary: "stop the run: every user is removed with force, then terminate runs",
    description:
      "Stopping the whole run (no nodes or labels) ends it: the reply's `run` says how it ended (verdict, exit code, each threshold, the run's one summary with every node that took part). Stopping some nodes leaves the run going, with no `run`.",
    body: { type: "object", properties: { ...selector }, additionalProperties: false },
    response: { 200: stopReply, ...errors(...common, 404, 409, 502, 503) },
  },
  addUsers: {
    ...tag("execution"),
    summary: "add users after the highest ID issued so far",
    body: { type: "object", properties: { users, ...selector }, required: ["users"], additionalProperties: false },
    response: { 200: anyObject, ...errors(...common, 404, 409, 502, 503) },
  },
  removeUsers: {
    ...tag("execution"),
    summary: "remove the highest running users; force aborts them instead of letting them finish their current start()",
    body: {
      type: "object",
      properties: { users, force: { type: "boolean", default: false }, ...selector },
      required: ["users"],
      additionalProperties: false,
    },
    response: { 200: anyObject, ...errors(...common, 404, 409, 502, 503) },
  },
  updateSettings: {
    ...tag("execution"),
    summary: "change updatable scenario variables during the run",
    body: {
      type: "object",
      properties: { settings: { ...settings, minProperties: 1 }, ...selector },
      required: ["settings"],
      additionalProperties: false,
    },
    response: { 200: anyObject, ...errors(...common, 404, 409, 502, 503) },
  },
} as const;
