/** `amoc run --dist`: this node masters one cluster run: waits for the workers, then the shared run loop. */
import type { AmocNode } from "../node/amoc-node.js";
import { nodeApis } from "../node/apis.js";
import type { RunSummary } from "./format.js";
import type { RunOptions } from "./run-command.js";
import { runWithApi, type RunIo, type RunOutcome } from "./run-loop.js";

const WORKERS_TIMEOUT_MS = 30_000;

/** Runs the scenario over the cluster; the summary gains per-node counts and the master's merged metrics. */
export async function runDist(node: AmocNode, o: RunOptions, io: RunIo): Promise<RunOutcome> {
  const api = nodeApis(node).dist;
  await api.waitForWorkers(o.workers, WORKERS_TIMEOUT_MS, (live) => {
    io.err.write(
      `waiting for ${o.workers} workers: ${live.length} up${live.length ? ` (${live.join(", ")})` : ""}, ${o.workers - live.length} more to join\n`,
    );
  });
  return runWithApi(api, o, { perNode: true, metrics: (stop) => (stop.metrics ?? {}) as RunSummary["metrics"] }, io);
}
