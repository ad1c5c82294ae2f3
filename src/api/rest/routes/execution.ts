/**
 * The execution routes: start (with its thresholds, judged when the run ends), stop (its reply carries the run's
 * end: verdict, exit code, thresholds, summary), add and remove users, update settings, and throttles. Each body
 * goes to the Node API as it is, with the node selector and comment.
 */
import type { FastifyInstance } from "fastify";
import { UsageError } from "../../../errors.js";
import type { CommandOptions, NodeApi, StartRequest, StopResult, ThrottleRequest } from "../../../node/node-api.js";
import type { RunEndRow } from "../../web/wire.js";
import { routeSchemas as S } from "../schemas.js";
import { emptyBody } from "./empty-body.js";

type Selector = Pick<CommandOptions, "nodes" | "labels" | "comment">;

/** The most users one start may ask for (schemas.ts bounds `users` the same). */
export const MAX_USERS = 100_000_000;

/** The start body as schemas.ts accepts it: what a REST client may set of a StartRequest (never files). */
type StartBody = Pick<
  StartRequest,
  "scenario" | "users" | "from" | "to" | "settings" | "thresholds" | "nodes" | "labels" | "comment"
>;

/** Registers PATCH /execution/{start,stop,add_users,remove_users,update_settings,throttle}. */
export function registerExecutionRoutes(app: FastifyInstance, api: NodeApi): void {
  const patch = { preValidation: emptyBody({}) };
  app.patch<{ Body: StartBody }>("/execution/start", { schema: S.start, ...patch }, async (req) => {
    // a from..to range is a count too: bounded as `users` is
    const { from = 1, to } = req.body;
    if (to !== undefined && to - from + 1 > MAX_USERS)
      throw new UsageError(
        `from ${from} to ${to} is ${to - from + 1} users, more than ${MAX_USERS}`,
        "start at most 100 000 000 users at once (add_users adds more)",
      );
    return api.start(req.body);
  });
  app.patch<{ Body: Selector & ThrottleRequest }>(
    "/execution/throttle",
    { schema: S.throttle, ...patch },
    async (req) => {
      const { nodes, labels, ...op } = req.body;
      return api.throttle(op, { nodes, labels });
    },
  );
  // the dashboard shows the stop's `run`: typed with its wire shape, so the two cannot drift apart
  app.patch<{ Body: Selector }>(
    "/execution/stop",
    { schema: S.stop, ...patch },
    async (req): Promise<StopResult & { run?: RunEndRow }> => api.stop(req.body),
  );
  app.patch<{ Body: Selector & { users: number } }>(
    "/execution/add_users",
    { schema: S.addUsers, ...patch },
    async (req) => {
      const { users, ...opts } = req.body;
      return api.add(users, opts);
    },
  );
  app.patch<{ Body: Selector & { users: number; force?: boolean } }>(
    "/execution/remove_users",
    { schema: S.removeUsers, ...patch },
    async (req) => {
      const { users, ...opts } = req.body;
      return api.remove(users, opts);
    },
  );
  app.patch<{ Body: Selector & { settings: Record<string, unknown> } }>(
    "/execution/update_settings",
    { schema: S.updateSettings, ...patch },
    async (req) => {
      const { settings, ...opts } = req.body;
      return api.updateSettings(settings, opts);
    },
  );
}
