/**
 * The capacity search over REST (docs/capacity.md): start one (its body is the Node API's CapacityRequest, checked by
 * the one schema that is also its type), read its progress and result, stop it. One search at a time: a second start
 * gets 409 STATE_INVALID saying which search runs; a refused body changes nothing.
 */
import type { FastifyInstance } from "fastify";
import { CAPACITY_REQUEST_SCHEMA, type CapacityRequest } from "../../../node/capacity/request.js";
import type { NodeApi } from "../../../node/node-api.js";
import { anyObject, common, errors, tag } from "../schema-parts.js";
import { emptyBody } from "./empty-body.js";

const progress = {
  type: "object",
  description:
    "the search: state (running, stopping, done, failed, or none before the first), scenario, by, run_id, the steps judged so far (users, window, each SLO's value, verdict, generator health) and, once done, its result (capacity, broke, generatorLimited, stopped)",
  properties: {
    state: { type: "string", enum: ["none", "running", "stopping", "done", "failed"] },
    scenario: { type: "string" },
    by: { type: "string" },
    run_id: { type: "string", nullable: true },
    steps: { type: "array", items: anyObject },
    result: anyObject,
    error: { type: "string" },
  },
  required: ["state"],
  additionalProperties: false,
} as const;

export const capacitySchemas = {
  start: {
    ...tag("execution"),
    summary: "start a capacity search: raise the load step by step, judge each SLO per step, find the capacity",
    description:
      "Answers once the first step started (the run's id known); GET /execution/capacity follows it. 409 while another search (or a run) is under way. The finished search is stored as a run of kind capacity (GET report and compare through bin/amoc runs).",
    body: CAPACITY_REQUEST_SCHEMA,
    response: { 200: progress, ...errors(...common, 404, 409, 502, 503) },
  },
  progress: {
    ...tag("execution"),
    summary: "the capacity search under way, or the last one, with its steps and result",
    response: { 200: progress, ...errors(...common) },
  },
  stop: {
    ...tag("execution"),
    summary: "stop the capacity search: the step under way is not judged, the users stop; answers with its end",
    body: { type: "object", additionalProperties: false },
    response: { 200: progress, ...errors(...common, 502, 503) },
  },
};

/** Registers PATCH /execution/capacity, GET /execution/capacity and PATCH /execution/capacity/stop. */
export function registerCapacityRoutes(app: FastifyInstance, api: NodeApi): void {
  app.patch<{ Body: CapacityRequest }>("/execution/capacity", { schema: capacitySchemas.start }, async (req) =>
    api.startCapacity(req.body),
  );
  app.get(
    "/execution/capacity",
    { schema: capacitySchemas.progress },
    async () => api.capacityProgress() ?? { state: "none" },
  );
  app.patch(
    "/execution/capacity/stop",
    { schema: capacitySchemas.stop, preValidation: emptyBody({}) },
    async () => (await api.stopCapacity()) ?? { state: "none" },
  );
}
