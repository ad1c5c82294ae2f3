/** The console's `amoc_local`: a thin binding over a local Node API that prints one node's results as before. */
import { throttleApi } from "./throttle-binding.js";
import { inspect } from "node:util";
import type { StatusReport } from "../controller/controller.js";
import type { CommandResult, NodeApi } from "../node/node-api.js";
import { formatStatus } from "./format.js";
import { formatLastInterval } from "./run-results.js";
import type { LastInterval } from "../results/recorder.js";

/** A printable wrapper: the REPL shows `text` as is instead of an inspected object. */
export class Printed {
  constructor(readonly text: string) {}
  [inspect.custom](): string {
    return this.text;
  }
}

/** This node's entry of a per-node result (local mode has exactly one). */
function own(api: NodeApi, r: CommandResult): Record<string, unknown> {
  const mine = r.nodes[api.nodeName];
  if (!mine) return r;
  if (!mine.ok) throw new Error(mine.error);
  return mine.result;
}

/** The `amoc_local` object. */
export function localApi(api: NodeApi): Record<string, unknown> {
  const status = async () => {
    const s = await api.nodeStatus(api.nodeName);
    // a recorded run's last interval (src/api/run-recording-api.ts)
    const last = formatLastInterval((s as { last_interval?: LastInterval | null }).last_interval);
    return Object.assign(new Printed(formatStatus(s) + (last ? `\n${last}` : "")), { raw: s });
  };
  return {
    do: async (name: string, from: number, to: number, settings?: Record<string, unknown>) =>
      own(api, await api.start({ scenario: name, from, to, settings })),
    add: async (n: number) => own(api, await api.add(n)),
    remove: async (n: number, opts?: { force?: boolean }) => {
      const r = own(api, await api.remove(n, { force: opts?.force === true })) as {
        requested: number;
        removed: number;
      };
      return r.removed < r.requested
        ? { ...r, note: `only ${r.removed} running users not already being removed could be selected` }
        : r;
    },
    status,
    status_raw: () => api.nodeStatus(api.nodeName),
    stop: async () => new Printed(formatStatus(own(api, await api.stop()) as unknown as StatusReport)),
    update_settings: async (s: Record<string, unknown>) => own(api, await api.updateSettings(s)).changed,
    scenarios: async () => (await api.scenarios()).map((s) => s.name),
    throttle: throttleApi(api),
  };
}
