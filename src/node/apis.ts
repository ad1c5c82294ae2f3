/** The two Node APIs of a node: local (its controller) and dist (the cluster, joined on first use). */
import type { AmocNode } from "./amoc-node.js";
import { DistNodeApi } from "./dist-api.js";
import { LocalNodeApi } from "./local-api.js";

/** Both APIs of one node. */
export interface NodeApis {
  local: LocalNodeApi;
  dist: DistNodeApi;
}

/** Builds the node's APIs; the dist one joins NATS only when first used and leaves when the node closes. */
export function nodeApis(node: AmocNode): NodeApis {
  return {
    local: new LocalNodeApi({ controller: node.controller, scenariosDir: node.settings.scenarios_dir, labels: node.settings.node_labels }),
    dist: new DistNodeApi(node),
  };
}
