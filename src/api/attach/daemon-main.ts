/**
 * The detached node itself (`bin/amoc __daemon`, spawned by `bin/amoc start`): claims the pid file, builds the node
 * as `console` does (local; joining the cluster at once when AMOC_NATS_URL is set) or as a cluster worker, serves
 * the attach socket, and on SIGTERM/SIGINT stops gracefully: users stopped, `terminate` called, annotations sent,
 * the cluster left, socket and pid file removed.
 */
import { rmSync, writeFileSync } from "node:fs";
import { envValue, loadNodeSettings } from "../../config/load.js";
import { flushLog } from "../../log.js";
import { createNode, type AmocNode } from "../../node/amoc-node.js";
import { nodeApis } from "../../node/apis.js";
import { dataDirFor, DEFAULT_NODE_NAME, ensureDataDir, type NodeMeta } from "../../node/data-dir.js";
import { claimPidFile, releasePidFile } from "../../node/daemon-pid.js";
import { joinAsWorker } from "../../node/worker.js";
import type { ConsoleApis } from "../console/console.js";
import { startNodeRest, startWorkerRest } from "../rest/node-rest.js";
import { listenAttach, type AttachServer } from "./server.js";

/** Runs the node until a stop signal; resolves with the exit code. Errors before it serves reach the log via stderr. */
export async function runDaemon(args: string[]): Promise<number> {
  const worker = args.includes("--worker");
  const role = worker ? "worker" : "console";
  const startedAtMs = Date.now();
  // `start` passes AMOC_NODE_NAME, AMOC_DATA_DIR and AMOC_LOG_FILE; stdout and stderr are the log file already
  const defaults = { node_name: DEFAULT_NODE_NAME };
  const early = loadNodeSettings({ defaults });
  const d = dataDirFor(early.node_name, early.data_dir);
  ensureDataDir(d);
  // claimed before the node exists: a node that loses a race for the name leaves nothing behind but this line
  const claim = claimPidFile(d);
  if (!claim.ok) {
    process.stderr.write(
      `amoc: node ${d.name} is already running (pid ${claim.pid}); this one (pid ${process.pid}) exits\n`,
    );
    return 2;
  }
  let node: AmocNode;
  try {
    node = createNode({ defaults, announce: !worker });
  } catch (e) {
    releasePidFile(d);
    throw e;
  }
  let server: AttachServer | undefined;
  try {
    const apis = await buildApis(node, worker);
    const log = node.settings.log_file || d.logFile;
    server = await listenAttach(
      d.socketPath,
      apis,
      { name: d.name, pid: process.pid, role, log, startedAtMs },
      node.log,
    );
    const meta: NodeMeta = {
      name: d.name,
      pid: process.pid,
      role,
      started_at: new Date(startedAtMs).toISOString(),
      log,
      socket: d.socketPath,
    };
    writeFileSync(d.metaFile, JSON.stringify(meta) + "\n", { mode: 0o600 });
    node.log.info({ msg: "daemon_ready", role, pid: process.pid, socket: d.socketPath });
    const signal = await stopSignal();
    node.log.info({ msg: "daemon_stopping", signal, attached: server.connections });
    await server.close("stopping");
    server = undefined;
    await node.close(); // stops a running run (users down, terminate), flushes annotations, leaves the cluster
    return 0;
  } catch (e) {
    node.log.error({ msg: "daemon_failed", err: (e as Error).message });
    flushLog(node.log);
    await node.close().catch(() => undefined);
    throw e;
  } finally {
    await server?.close("failing");
    rmSync(d.metaFile, { force: true });
    rmSync(d.socketPath, { force: true });
    releasePidFile(d);
  }
}

/**
 * A console node: both APIs (joining the cluster now when AMOC_NATS_URL is set); a worker: joins as one, local API
 * only. Either serves REST too when AMOC_API_PORT is set, as `console` and `worker` do.
 */
async function buildApis(node: AmocNode, worker: boolean): Promise<ConsoleApis> {
  const apis = nodeApis(node);
  if (worker) {
    await joinAsWorker(node);
    await startWorkerRest(node);
    return { local: apis.local };
  }
  if (envValue(node.env, "nats_url")) await apis.dist.connect();
  // every run (attach, eval, REST) goes through the node's run service: recorded in its run store (bin/amoc runs)
  await startNodeRest(node, envValue(node.env, "nats_url") ? apis.dist : apis.local);
  return apis;
}

/** Resolves with the first SIGTERM or SIGINT; SIGHUP is ignored (the node has no terminal to lose). */
function stopSignal(): Promise<NodeJS.Signals> {
  process.on("SIGHUP", () => undefined);
  return new Promise((resolve) => {
    for (const s of ["SIGTERM", "SIGINT"] as const) process.once(s, () => resolve(s));
  });
}
