/**
 * A capacity search as a front end asks for it (REST body, console call, `bin/amoc capacity` flags): one JSON schema,
 * which the REST route validates bodies with and OpenAPI shows, and whose TypeScript type is derived from it, so the
 * two cannot drift apart. `capacityOptions` turns a request into the search's options (refused with a UsageError).
 */
import { parseDurationMs } from "../../config/parse.js";
import { UsageError } from "../../errors.js";
import { parseThresholds } from "../../results/thresholds.js";
import type { CapacityOptions } from "./search.js";

const count = (description: string) => ({ type: "integer", minimum: 1, maximum: 10_000_000, description }) as const;

export const CAPACITY_REQUEST_SCHEMA = {
  type: "object",
  properties: {
    scenario: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$", description: "a scenario name" },
    slos: {
      type: "array",
      items: { type: "string", minLength: 1, maxLength: 200 },
      minItems: 1,
      maxItems: 20,
      description: "service levels judged on each step's window, e.g. 'xmpp.connection.p99<1000', 'users.crashed==0'",
    },
    start: count("the first step's level (default 100)"),
    step: count("added per step (default 100)"),
    max: count("the highest level tried (default 100000)"),
    hold: { type: "string", pattern: "^\\d+(\\.\\d+)?(ms|s|m|h)?$", description: "each step's hold, e.g. 30s" },
    by: { type: "string", enum: ["users", "rate"], description: "step over users online or users started per second" },
    refine: {
      type: "integer",
      minimum: 0,
      maximum: 10_000_000,
      description: "bisect between the last good and the first bad step down to this resolution (0: off)",
    },
    settings: {
      type: "object",
      additionalProperties: true,
      description: "run settings and scenario variables, e.g. {interarrival: 0}",
    },
  },
  required: ["scenario", "slos"],
  additionalProperties: false,
} as const;

type Prop<S> = S extends { enum: readonly (infer E)[] }
  ? E
  : S extends { type: "string" }
    ? string
    : S extends { type: "integer" | "number" }
      ? number
      : S extends { type: "array"; items: infer I }
        ? Prop<I>[]
        : S extends { type: "object" }
          ? Record<string, unknown>
          : unknown;
type Req<S extends { required: readonly string[] }> = S["required"][number];
/** The TypeScript type of an object schema: its required properties required, the others optional. */
type FromSchema<S extends { properties: Record<string, unknown>; required: readonly string[] }> = {
  -readonly [K in keyof S["properties"] as K extends Req<S> ? K : never]: Prop<S["properties"][K]>;
} & { -readonly [K in keyof S["properties"] as K extends Req<S> ? never : K]?: Prop<S["properties"][K]> };

/** A capacity search request: the type of CAPACITY_REQUEST_SCHEMA. */
export type CapacityRequest = FromSchema<typeof CAPACITY_REQUEST_SCHEMA>;

/** The search's options from a request (defaults filled in); a UsageError names every problem. */
export function capacityOptions(req: CapacityRequest, intervalMs: number): CapacityOptions {
  if (typeof req !== "object" || req === null)
    throw new UsageError(
      "a capacity search needs {scenario, slos}",
      "e.g. {scenario: 'login_storm', slos: ['users.crashed==0']}",
    );
  if (typeof req.scenario !== "string" || !req.scenario)
    throw new UsageError("name the scenario", "e.g. scenario: 'login_storm'");
  if (!Array.isArray(req.slos))
    throw new UsageError("slos must be a list of thresholds", "e.g. slos: ['xmpp.connection.p99<1000']");
  const holdMs = parseDurationMs(req.hold ?? "30s", "s");
  if (holdMs === undefined) throw new UsageError(`hold must be a duration like 30s, not '${req.hold}'`, "e.g. 30s");
  if (req.settings !== undefined && (typeof req.settings !== "object" || req.settings === null))
    throw new UsageError("settings must be an object", "e.g. {interarrival: 0}");
  return {
    scenario: req.scenario,
    slos: parseThresholds(req.slos),
    start: req.start ?? 100,
    step: req.step ?? 100,
    max: req.max ?? 100_000,
    holdMs,
    by: req.by ?? "users",
    refine: req.refine ?? 0,
    settings: req.settings ?? {},
    intervalMs,
  };
}
