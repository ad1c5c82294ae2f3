/** Turns a StartRequest's `users` / `from` / `to` into one user range, or a UsageError saying what is wrong. */
import { UsageError } from "../../errors.js";
import type { StartRequest } from "../node-api.js";

const HINT = "give users (and optionally from), or from and to: {scenario: 'dummy', users: 10}";

/** The user range `from..to` a start request asks for. */
export function startRange(req: StartRequest): { from: number; to: number } {
  if (typeof req !== "object" || req === null) throw new UsageError("start needs a request object", HINT);
  if (typeof req.scenario !== "string" || req.scenario === "")
    throw new UsageError("start needs a scenario name", HINT);
  const from = req.from ?? 1;
  if (!Number.isSafeInteger(from) || from < 1)
    throw new UsageError(`from must be an integer >= 1, got ${JSON.stringify(req.from)}`, HINT);
  let to: number;
  if (req.users !== undefined) {
    if (!Number.isSafeInteger(req.users) || req.users < 1)
      throw new UsageError(`users must be an integer >= 1, got ${JSON.stringify(req.users)}`, HINT);
    to = from + req.users - 1;
    if (req.to !== undefined && req.to !== to)
      throw new UsageError(`users (${req.users}) and to (${req.to}) disagree for from ${from}`, HINT);
  } else if (req.to !== undefined) {
    to = req.to;
    if (!Number.isSafeInteger(to) || to < from)
      throw new UsageError(`to must be an integer >= from (${from}), got ${JSON.stringify(req.to)}`, HINT);
  } else if (hasShape(req.settings))
    to = from; // the load shape says how many users start (the controller or master sets `to`)
  else throw new UsageError("start needs users, or from and to (or settings.stages / settings.arrival_rate)", HINT);
  return { from, to };
}

/** Whether run settings carry a load shape (then the shape, not users/to, says how many users start). */
function hasShape(settings: Record<string, unknown> | undefined): boolean {
  const set = (v: unknown) =>
    (Array.isArray(v) && v.length > 0) || (typeof v === "string" && v.trim() !== "" && v.trim() !== "[]");
  return settings !== undefined && (set(settings.stages) || set(settings.arrival_rate));
}
