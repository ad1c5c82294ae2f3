/** The node routes: liveness, the nodes (amoc 2.x's `{name: up|down}` plus details), the status of all or one. */
import type { FastifyInstance } from "fastify";
import type { NodeApi } from "../../../node/node-api.js";
import { routeSchemas as S } from "../schemas.js";

/** Registers GET /health, /nodes, /status and /status/:node. */
export function registerNodeRoutes(app: FastifyInstance, api: NodeApi): void {
  app.get("/health", { schema: S.health }, async () => ({ status: "ok", node: api.nodeName, mode: api.mode }));
  app.get("/nodes", { schema: S.nodes }, async () => {
    const list = await api.nodes();
    return { nodes: Object.fromEntries(list.map((n) => [n.name, n.state === "down" ? "down" : "up"])), details: list };
  });
  app.get("/status", { schema: S.status }, async () => ({ amoc_status: "up", ...(await api.status()) }));
  app.get<{ Params: { node: string } }>("/status/:node", { schema: S.nodeStatus }, async (req) => ({
    amoc_status: "up",
    ...(await api.nodeStatus(req.params.node)),
  }));
}
