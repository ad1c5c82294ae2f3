/** The two Node APIs of a node: local (its controller) and dist (the cluster, joined on first use), both with uploads. */
import { join, resolve } from "node:path";
import { nodeDataDir } from "../cluster/scenario-store.js";
import { envValue } from "../config/load.js";
import type { AmocNode } from "./amoc-node.js";
import { DistNodeApi } from "./dist-api.js";
import { LocalNodeApi } from "./local-api.js";
import { UploadingApi, UploadingDistApi, uploadStore } from "./uploads.js";

/** Both APIs of one node. */
export interface NodeApis {
  local: UploadingApi;
  dist: UploadingDistApi;
}

const built = new WeakMap<AmocNode, NodeApis>();

/**
 * The node's APIs (built once per node: every front end shares one master and one upload store). Both see uploaded
 * scenarios: from the cluster's bucket when the node is in a cluster (AMOC_NATS_URL set), else from its data
 * directory. The dist one joins NATS only when first used and leaves when the node closes.
 */
export function nodeApis(node: AmocNode): NodeApis {
  const have = built.get(node);
  if (have) return have;
  const s = node.settings;
  const store = uploadStore(s, envValue(node.env, "nats_url") !== undefined, node.log);
  node.onClose(() => store.close());
  const workDir = resolve(join(nodeDataDir(s, node.env), "upload-check"));
  const apis: NodeApis = {
    local: new UploadingApi(
      new LocalNodeApi({ controller: node.controller, scenariosDir: s.scenarios_dir, labels: s.node_labels }),
      () => store.get(),
      workDir,
      s.scenarios_dir,
    ),
    dist: new UploadingDistApi(new DistNodeApi(node), () => store.get(), workDir, s.scenarios_dir),
  };
  built.set(node, apis);
  return apis;
}
