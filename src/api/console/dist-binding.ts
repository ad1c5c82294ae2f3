/** The console's `amoc_dist` and `nodes()`: thin bindings over the dist Node API (which joins NATS on first use). */
import type { CommandOptions, NodeApi } from "../../node/node-api.js";
import { capacityApi } from "./capacity-binding.js";
import { throttleApi } from "./throttle-binding.js";

/** Options of `amoc_dist.do`: run settings plus the node selector and a comment. */
export interface DistDoOptions extends CommandOptions {
  settings?: Record<string, unknown>;
}

/** The `amoc_dist` object of the console; results are per node, as the API returns them. */
export function distApi(api: NodeApi): Record<string, unknown> {
  return {
    do: async (name: string, from: number, to: number, opts: DistDoOptions = {}) =>
      api.start({ ...opts, scenario: name, from, to }),
    add: async (n: number, opts?: CommandOptions) => api.add(n, opts),
    remove: async (n: number, opts?: CommandOptions) => {
      // the API's `removed` says how many were newly selected (the API's `users` repeats it): they are `removing`
      // until they end, as status counts them
      const { users: _users, removed, ...r } = await api.remove(n, opts);
      return removed === undefined ? r : { removing: removed, ...r };
    },
    status: async () => {
      const { mode: _mode, ...s } = await api.status();
      return s;
    },
    stop: async (opts?: CommandOptions) => {
      // the run's user counts, as `users`, like status() shows them; its end in short (the summary is in History)
      const { user_counts, users, run, ...r } = await api.stop(opts);
      const out: Record<string, unknown> = { ...r, users: user_counts ?? users };
      if (run) {
        out.run_id = run.run_id;
        out.verdict = run.verdict;
        out.exit_code = run.exit_code;
        if (run.thresholds.length)
          out.thresholds = run.thresholds.map(
            (t) => `${t.ok ? "ok" : t.status === "no_metric" ? "NO METRIC" : "BREACHED"} ${t.expr}`,
          );
        if (run.summary.nodes) out.summary_nodes = run.summary.nodes;
      }
      return out;
    },
    update_settings: async (settings: Record<string, unknown>, opts?: CommandOptions) =>
      api.updateSettings(settings, opts),
    throttle: throttleApi(api),
    ...capacityApi(api),
  };
}

/** `nodes()`: live nodes with role, labels, state and running users. */
export function nodesApi(api: NodeApi): () => Promise<unknown> {
  return async () =>
    (await api.nodes()).map((m) => ({
      name: m.name,
      role: m.role,
      labels: m.labels,
      state: m.state,
      run: m.run_id ?? null,
      running: m.running,
    }));
}
