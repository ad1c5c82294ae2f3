/** The console's `throttle` objects (amoc_local.throttle, amoc_dist.throttle): amoc_throttle's verbs over the Node API. */
import { UsageError } from "../../errors.js";
import type { CommandResult, NodeApi, NodeSelector, ThrottleRequest } from "../../node/node-api.js";

type Config = ThrottleRequest["config"] | number;

const cfg = (c: Config): ThrottleRequest["config"] => (typeof c === "number" ? { rate: c } : c);

/** `change_rate('msg', {rate: 1000, interval: 1000})`, `pause('msg')`, ...; results are per node. */
export function throttleApi(api: NodeApi, sel?: NodeSelector): Record<string, unknown> {
  const send = async (req: ThrottleRequest, opts?: NodeSelector): Promise<CommandResult> => {
    if (!api.throttle)
      throw new UsageError("this node's API has no throttles", "use amoc_local or amoc_dist in the console");
    return api.throttle(req, opts ?? sel);
  };
  return {
    start: (name: string, c: Config, opts?: NodeSelector) => send({ op: "start", name, config: cfg(c) }, opts),
    change_rate: (name: string, c: Config, opts?: NodeSelector) =>
      send({ op: "change_rate", name, config: cfg(c) }, opts),
    change_rate_gradually: (
      name: string,
      from: number,
      to: number,
      overMs: number,
      steps?: number,
      opts?: NodeSelector,
    ) => send({ op: "change_rate_gradually", name, gradual: { from, to, overMs, steps } }, opts),
    pause: (name: string, opts?: NodeSelector) => send({ op: "pause", name }, opts),
    resume: (name: string, opts?: NodeSelector) => send({ op: "resume", name }, opts),
    stop: (name: string, opts?: NodeSelector) => send({ op: "stop", name }, opts),
    list: (opts?: NodeSelector) => send({ op: "list" }, opts),
  };
}
