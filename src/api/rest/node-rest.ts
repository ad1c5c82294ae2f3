/**
 * The REST server of `bin/amoc console`, `worker` and `start`: started when `api_port` is set in the environment
 * (AMOC_API_PORT), in front of the cluster when the node is in one, else in front of the node itself.
 */
import { envValue } from "../../config/load.js";
import type { AmocNode } from "../../node/amoc-node.js";
import { DistNodeApi } from "../../node/dist-api.js";
import type { NodeApi } from "../../node/node-api.js";
import { startRestServer, type RestServer } from "./start.js";

/** Whether the node should serve REST: `AMOC_API_PORT` is set. */
export function restRequested(env: NodeJS.ProcessEnv = process.env): boolean {
  return envValue(env, "api_port") !== undefined;
}

/** Starts the REST server in front of `api` when requested; it closes with the node. */
export async function startNodeRest(node: AmocNode, api: NodeApi, env: NodeJS.ProcessEnv = process.env): Promise<RestServer | undefined> {
  if (!restRequested(env)) return undefined;
  const server = await startRestServer(api, node.settings, node.log, { telemetry: node.telemetry });
  node.onClose(() => server.close());
  process.stderr.write(`amoc: REST API at ${server.url} (Swagger UI: ${server.url}/api-docs)\n`);
  return server;
}

/**
 * The REST server of a cluster worker: it drives the whole cluster through a master of its own, named
 * `<node>-api` (a worker's own name is taken by its worker membership).
 */
export async function startWorkerRest(node: AmocNode, env: NodeJS.ProcessEnv = process.env): Promise<RestServer | undefined> {
  if (!restRequested(env)) return undefined;
  const settings = { ...node.settings, node_name: `${node.settings.node_name}-api` };
  const api = new DistNodeApi({ settings, controller: node.controller, telemetry: node.telemetry, log: node.log, onClose: (fn) => node.onClose(fn) });
  return startNodeRest(node, api, env);
}
