/**
 * The pieces the route schemas (schemas.ts) share: names, the node selector, settings, user counts and IDs, the
 * stop's answer, and the error answer every route may give.
 */
export const nodeName = { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$", description: "a node name" } as const;
export const scenarioName = {
  type: "string",
  pattern: "^[A-Za-z0-9_-]{1,64}$",
  description: "a scenario name (built-in or uploaded)",
} as const;

/** Selecting nodes and commenting, shared by every execution body. */
export const selector = {
  nodes: {
    type: "array",
    items: nodeName,
    maxItems: 1000,
    description: "act on these nodes only (default: every node)",
  },
  labels: {
    type: "object",
    additionalProperties: { type: "string" },
    description: 'act on nodes whose labels all match, e.g. {"zone": "a"}',
  },
  comment: { type: "string", maxLength: 1000, description: "recorded with the run event (annotations, run store)" },
} as const;

export const settings = {
  type: "object",
  description: 'run settings and scenario variables as JSON values, e.g. {"interarrival": 0, "repeat_num": 1}',
  additionalProperties: true,
} as const;

export const users = { type: "integer", minimum: 1, maximum: 100_000_000, description: "number of users" } as const;
/** User IDs: the highest must stay an exact integer (and a username a sane length). */
export const userId = {
  type: "integer",
  minimum: 1,
  maximum: 1_000_000_000_000,
  description: "a user ID (at most 10^12)",
} as const;

/** Any JSON object answer (its fields are described in the route's description). */
export const anyObject = { type: "object", additionalProperties: true } as const;

/** The stop's answer: per node, and how the run ended when the stop ended it. */
export const stopReply = {
  type: "object",
  properties: {
    nodes: { type: "object", additionalProperties: true, description: "each node's result, or why it failed" },
    run: {
      type: "object",
      description: "how the run ended (absent when only some nodes were stopped)",
      properties: {
        run_id: { type: "string", description: "the run's id in the run store (bin/amoc runs show ID)" },
        verdict: { type: "string", enum: ["passed", "failed", "breached", "interrupted", "incomplete", "running"] },
        exit_code: {
          type: "integer",
          description: "0 passed, 1 users crashed or a node failed, 3 a threshold breached",
        },
        thresholds: { type: "array", items: anyObject },
        summary: anyObject,
      },
      required: ["run_id", "verdict", "exit_code"],
      additionalProperties: true,
    },
  },
  required: ["nodes"],
  additionalProperties: true,
} as const;

/** The body of every error answer. */
export const errorSchema = {
  type: "object",
  description: "an error: a stable code, a message, a hint a user can act on, and for bad input every problem found",
  properties: {
    error: {
      type: "string",
      description: "error code, e.g. BAD_REQUEST, UPLOAD_INVALID, STATE_INVALID, SCENARIO_NOT_FOUND",
    },
    message: { type: "string" },
    hint: { type: "string" },
    problems: {
      type: "array",
      items: {
        type: "object",
        properties: {
          path: { type: "string" },
          file: { type: "string" },
          line: { type: "integer" },
          column: { type: "integer" },
          message: { type: "string" },
        },
        additionalProperties: true,
      },
    },
  },
  required: ["error", "message"],
  additionalProperties: true,
} as const;

export const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, errorSchema]));
export const common = [400, 401, 403];

export const tag = (t: string) => ({ tags: [t], security: [{ bearerAuth: [] }] });
