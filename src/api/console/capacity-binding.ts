/**
 * The console's capacity search (`amoc_local.capacity(...)`, `amoc_dist.capacity(...)`): a thin binding over the
 * Node API's search. `capacity` answers once the first step started; `capacity_status` shows the steps so far (or
 * the result), `capacity_wait` waits for the result, `capacity_stop` stops the search.
 */
import type { CapacityRequest } from "../../node/capacity/request.js";
import { formatCapacity } from "../../node/capacity/format.js";
import type { CapacityProgress } from "../../node/capacity/service.js";
import type { NodeApi } from "../../node/node-api.js";
import { Printed } from "./printed.js";

function progressText(p: CapacityProgress | null): Printed {
  if (!p)
    return new Printed("no capacity search yet: amoc_local.capacity('login_storm', {slos: ['users.crashed==0']})");
  if (p.result) return Object.assign(new Printed(formatCapacity(p.result)), { raw: p });
  const unit = p.by === "rate" ? "users/s" : "users";
  const steps = p.steps.map(
    (s) =>
      `step ${s.users} ${unit}: ${s.ok ? "ok" : "FAILED"} ${s.slos.map((x) => `${x.expr}=${x.actual ?? "-"}`).join(" ")}`,
  );
  const head = `capacity search ${p.state}: ${p.scenario}, run ${p.run_id ?? "starting"}${p.error ? `: ${p.error}` : ""}`;
  return Object.assign(new Printed([head, ...steps].join("\n")), { raw: p });
}

/** The capacity functions of `amoc_local` / `amoc_dist`. */
export function capacityApi(api: NodeApi): Record<string, unknown> {
  return {
    /** capacity(scenario, {slos, start, step, hold, max, by, refine, settings}) */
    capacity: async (scenario: string, opts: Omit<CapacityRequest, "scenario">) => {
      const p = await api.startCapacity({ ...opts, scenario } as CapacityRequest);
      return Object.assign(
        new Printed(
          `capacity search started: ${p.scenario}, run ${p.run_id}; capacity_status() follows it, capacity_wait() waits for its result, capacity_stop() stops it`,
        ),
        { raw: p },
      );
    },
    capacity_status: async () => progressText(api.capacityProgress()),
    capacity_wait: async () => {
      const r = await api.capacityResult();
      return r ? new Printed(formatCapacity(r)) : progressText(null);
    },
    capacity_stop: async () => progressText(await api.stopCapacity()),
  };
}
