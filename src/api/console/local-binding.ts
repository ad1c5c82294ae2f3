/** The console's `amoc_local`: a thin binding over a local Node API that prints one node's results as before. */
import type { StatusReport } from "../../controller/types.js";
import type { CommandResult, NodeApi, StopResult } from "../../node/node-api.js";
import type { LastInterval } from "../../results/recorder.js";
import { formatLastInterval, formatRunEnd, formatStatus } from "../format.js";
import { capacityApi } from "./capacity-binding.js";
import { Printed } from "./printed.js";
import { throttleApi } from "./throttle-binding.js";

export { Printed } from "./printed.js";

/** This node's entry of a per-node result (local mode has exactly one). */
function own(api: NodeApi, r: CommandResult): Record<string, unknown> {
  const mine = r.nodes[api.nodeName];
  if (!mine) return r;
  if (!mine.ok) throw new Error(mine.error);
  return mine.result;
}

/** What a node's remove replies: how many users it selected for removal. */
interface RemoveResult {
  requested: number;
  removed: number;
  force: boolean;
}

/**
 * `remove(n)`'s answer in the console: the selected users are `removing` (status counts them as being removed until
 * they end their current run, or their forced end), not removed yet.
 */
export function removeAnswer(r: RemoveResult): Record<string, unknown> {
  const out: Record<string, unknown> = { requested: r.requested, removing: r.removed, force: r.force };
  if (r.removed < r.requested) out.note = `only ${r.removed} running users not already being removed could be selected`;
  return out;
}

/** The `amoc_local` object. */
export function localApi(api: NodeApi): Record<string, unknown> {
  const status = async () => {
    const s = await api.nodeStatus(api.nodeName);
    // the run's last merged interval (the node's run service records every run)
    const last = formatLastInterval((s as { last_interval?: LastInterval | null }).last_interval);
    return Object.assign(new Printed(formatStatus(s) + (last ? `\n${last}` : "")), { raw: s });
  };
  return {
    do: async (name: string, from: number, to: number, settings?: Record<string, unknown>) => {
      const r = await api.start({ scenario: name, from, to, settings });
      return { ...own(api, r), run_id: r.run_id };
    },
    add: async (n: number) => own(api, await api.add(n)),
    remove: async (n: number, opts?: { force?: boolean }) =>
      removeAnswer(own(api, await api.remove(n, { force: opts?.force === true })) as unknown as RemoveResult),
    status,
    status_raw: () => api.nodeStatus(api.nodeName),
    stop: async () => {
      const r: StopResult = await api.stop();
      const mine = own(api, r);
      const text = formatStatus(mine as unknown as StatusReport);
      // the run's verdict, as bin/amoc run prints it
      return Object.assign(new Printed(r.run ? `${text}\n${formatRunEnd(r.run)}` : text), {
        raw: { ...mine, run: r.run },
      });
    },
    update_settings: async (s: Record<string, unknown>) => own(api, await api.updateSettings(s)).changed,
    scenarios: async () => (await api.scenarios()).map((s) => s.name),
    throttle: throttleApi(api),
    ...capacityApi(api),
  };
}
