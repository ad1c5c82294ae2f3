/**
 * `amoc run` on a node: local, or `--dist` over the cluster with this node as master (after waiting for the
 * workers). Both go through the node's Node API, so the run is validated, recorded and judged by its run service.
 */
import { Writable } from "node:stream";
import type { AmocNode } from "../../node/amoc-node.js";
import { nodeApis } from "../../node/apis.js";
import type { ResultsOptions } from "./flags.js";
import { runWithApi, type RunIo, type RunOutcome } from "./loop.js";
import type { RunOptions } from "./options.js";

const WORKERS_TIMEOUT_MS = 30_000;

/** No progress output (a caller that passes no io, e.g. a test). */
const QUIET: RunIo = { err: new Writable({ write: (_c, _e, cb) => cb() }), isTTY: false };

const NO_RESULTS: ResultsOptions = { thresholds: [], abortOnFail: false };

/** Runs `o` on `node` (local or `--dist`) and returns the run's end as the stop replied it. */
export async function runOnNode(
  node: AmocNode,
  o: RunOptions,
  results: ResultsOptions = NO_RESULTS,
  io: RunIo = QUIET,
): Promise<RunOutcome> {
  const apis = nodeApis(node);
  if (!o.dist) return runWithApi(apis.local, o, results, io);
  const api = apis.dist;
  await api.waitForWorkers(o.workers, WORKERS_TIMEOUT_MS, (live) => {
    io.err.write(
      `waiting for ${o.workers} workers: ${live.length} up${live.length ? ` (${live.join(", ")})` : ""}, ${o.workers - live.length} more to join\n`,
    );
  });
  return runWithApi(api, o, results, io);
}
