/**
 * The REST server of `bin/amoc console`, `worker` and `start`: started when `api_port` is set in the environment
 * (AMOC_API_PORT), in front of the cluster when the node is in one, else in front of the node itself.
 */
import { envValue } from "../../config/load.js";
import type { AmocNode } from "../../node/amoc-node.js";
import { nodeApis } from "../../node/apis.js";
import type { NodeApi } from "../../node/node-api.js";
import { DAEMON_COMMAND } from "../../node/daemon-spawn.js";
import { startRestServer, type RestServer } from "./start.js";

/** Whether the node should serve REST: `AMOC_API_PORT` is set. */
export function restRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return envValue(env, "api_port") !== undefined;
}

/** Starts the REST server in front of `api` when requested; it closes with the node. */
export async function startNodeRest(
  node: AmocNode,
  api: NodeApi,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RestServer | undefined> {
  if (!restRequested(env)) return undefined;
  const server = await startRestServer(api, node.settings, node.log, node.prometheus);
  node.onClose(() => server.close());
  // a detached node's stderr is its log file: `bin/amoc start` prints the URL with the token from api.json instead
  process.stderr.write(startLine(server, !process.argv.includes(DAEMON_COMMAND)));
  return server;
}

/** What a node prints about its REST API: the dashboard URL with the token (on a terminal only), auth, uploads. */
export function startLine(s: Pick<RestServer, "url" | "token" | "tokenFile" | "uploads">, withToken: boolean): string {
  const auth = s.token
    ? `auth token (in ${s.tokenFile})`
    : "auth off (AMOC_API_AUTH=off: anyone on this machine can drive this node)";
  const uploads = s.uploads
    ? "uploads on (an uploaded scenario runs code with this node's rights; AMOC_API_UPLOADS=off refuses them)"
    : "uploads off";
  const dashboard = s.token && withToken ? `${s.url}/?token=${s.token}` : `${s.url}/`;
  return `amoc: REST API at ${s.url} (Swagger UI: ${s.url}/api-docs); ${auth}; ${uploads}\namoc: dashboard: ${dashboard}\n`;
}

/**
 * The REST server of a cluster worker: it drives the whole cluster through the node's run service over a master of
 * its own, named `<node>-api`. A worker's cluster handle has no Master (joinCluster takes one role), and its own
 * name is taken by its worker membership; so this costs a second NATS connection until a worker can also serve as
 * master (src/cluster).
 */
export async function startWorkerRest(
  node: AmocNode,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RestServer | undefined> {
  if (!restRequested(env)) return undefined;
  const asMaster: AmocNode = { ...node, settings: { ...node.settings, node_name: `${node.settings.node_name}-api` } };
  return startNodeRest(node, nodeApis(asMaster).dist, env);
}
