/** `amoc worker`: a cluster node with no console, running the users masters deal it until SIGINT/SIGTERM. */
import { createNode } from "../../node/amoc-node.js";
import { joinAsWorker } from "../../node/worker.js";
import { startWorkerRest } from "../rest/node-rest.js";
import { closeQuietly } from "./close-quietly.js";

/** Joins the cluster as a worker and serves until a signal. */
export async function workerCommand(): Promise<number> {
  const node = createNode({ announce: false });
  await joinAsWorker(node);
  await startWorkerRest(node);
  process.stderr.write(
    `amoc worker ${node.settings.node_name} joined cluster '${node.settings.cluster_name}' at ${node.settings.nats_url.join(",")}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await closeQuietly(node);
  return 0;
}
