/**
 * A node's one upload store: its data directory (local), or the cluster's bucket over the NATS connection of the
 * node's master (no connection of its own), opened on first use; a failed open is retried by the next call.
 */
import type { Logger } from "../../log.js";
import type { ClusterBus } from "../../cluster/bus.js";
import { KvScenarioStore } from "../../cluster/nats-scenario-store.js";
import { uploadsDir, type ScenarioStore } from "../../cluster/scenario-store.js";
import type { NodeSettings } from "../../config/schema.js";
import { DirScenarioStore } from "../../scenario/upload-dir-store.js";

/** The store getter: `bus` (when the node is in a cluster) joins it as master and hands over the master's bus. */
export function uploadStore(
  settings: Pick<NodeSettings, "data_dir" | "node_name">,
  bus: (() => Promise<ClusterBus>) | undefined,
  log?: Logger,
): () => Promise<ScenarioStore> {
  let store: Promise<ScenarioStore> | undefined;
  return () => {
    if (store) return store;
    if (!bus) return (store = Promise.resolve(new DirScenarioStore(uploadsDir(settings))));
    store = bus().then(async (b) => new KvScenarioStore(await b.kv(), uploadsDir(settings), { log }));
    void store.catch(() => {
      store = undefined;
    });
    return store;
  };
}
