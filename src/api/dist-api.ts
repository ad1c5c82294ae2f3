/** The console's `amoc_dist` and `nodes()`: the cluster master API, joining NATS on first use so local mode never needs it. */
import { joinCluster, type ClusterHandle } from "../cluster/cluster-node.js";
import type { DistOptions, Master } from "../cluster/master.js";
import type { AmocNode } from "../main.js";

/** Lazily joins the cluster as a master; the same handle is reused by every call. */
export function lazyMaster(node: AmocNode): () => Promise<Master> {
  let joining: Promise<ClusterHandle> | undefined;
  return async () => {
    joining ??= joinCluster(node, "master").then((h) => {
      node.onClose(() => h.close());
      return h;
    });
    try {
      const h = await joining;
      // the first heartbeats take up to a second to arrive
      await h.membership.warmedUp();
      return h.master!;
    } catch (e) {
      joining = undefined; // NATS was down: let the next call try again
      throw e;
    }
  };
}

/** The `amoc_dist` object of the console. */
export function distApi(master: () => Promise<Master>): Record<string, unknown> {
  return {
    do: async (name: string, from: number, to: number, opts?: DistOptions) => (await master()).do(name, from, to, opts),
    add: async (n: number, opts?: DistOptions) => (await master()).add(n, opts),
    remove: async (n: number, opts?: DistOptions) => (await master()).remove(n, opts),
    status: async () => (await master()).status(),
    stop: async (opts?: DistOptions) => (await master()).stop(opts),
    update_settings: async (settings: Record<string, unknown>, opts?: DistOptions) => (await master()).updateSettings(settings, opts),
  };
}

/** `nodes()`: live nodes with role, labels, state and running users. */
export function nodesApi(master: () => Promise<Master>): () => Promise<unknown> {
  return async () => (await master()).nodes().map((m) => ({ name: m.from, role: m.role, labels: m.labels, state: m.state, run: m.runId, running: m.running }));
}
