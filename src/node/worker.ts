/** A node joining its cluster as a worker (`bin/amoc worker`, a detached worker): it leaves when the node closes. */
import { joinCluster } from "../cluster/cluster-node.js";
import type { AmocNode } from "./amoc-node.js";

/** Joins as a worker; the node's close leaves the cluster (users stopped, goodbye beat). */
export async function joinAsWorker(node: AmocNode): Promise<void> {
  const cluster = await joinCluster(node, "worker");
  node.onClose(() => cluster.close());
}
