/** `amoc start [--name N] [--worker]`: a node in the background, logging to its data directory; returns once it answers. */
import { envValue } from "../../config/load.js";
import { StateError } from "../../errors.js";
import { spawnDaemon } from "../../node/daemon-spawn.js";
import { cleanStale, probeNode } from "../../node/daemon-pid.js";
import { apiFile, readApiRuntime } from "../../node/api-token.js";
import { request } from "../attach/client.js";
import type { PingReply } from "../attach/protocol.js";
import { parseArgs, resolveTarget, timeoutMs } from "../attach/target.js";

export const START_USAGE = `usage: amoc start [--name N] [--worker] [--timeout S]
  starts a node in the background (a console node; in the cluster when AMOC_NATS_URL is set; --worker: a cluster
  worker) under the name N (default: AMOC_NODE_NAME, else "amoc"), logging to its data directory
  (AMOC_DATA_DIR, default .run/amoc/N); returns once the node answers (at most S seconds, default 60)`;

/** Starts the node detached; 0 once it answers, else the node's own exit code with the last lines of its log. */
export async function startCommand(args: string[]): Promise<number> {
  const a = parseArgs(args, ["name", "timeout"], ["worker", "help"], START_USAGE);
  if (a.flags.has("help")) {
    process.stdout.write(START_USAGE + "\n");
    return 0;
  }
  const t = resolveTarget(a.values.name);
  const readyTimeoutMs = timeoutMs(a.values.timeout, 60, START_USAGE);
  const before = probeNode(t.dir);
  if (before.state === "running") {
    throw new StateError(
      `node ${t.name} is already running (pid ${before.pid})`,
      `attach to it with bin/amoc attach${t.nameFlag}, or stop it with bin/amoc stop${t.nameFlag}`,
    );
  }
  if (before.state === "stale") {
    cleanStale(t.dir);
    process.stderr.write(
      `amoc: removed the stale pid file${before.pid ? ` of pid ${before.pid}` : ""} left by node ${t.name}\n`,
    );
  }
  const logFile = t.settings.log_file || t.dir.logFile;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AMOC_NODE_NAME: t.name,
    AMOC_DATA_DIR: t.dir.dir,
    AMOC_LOG_FILE: logFile,
  };
  const worker = a.flags.has("worker");
  const r = await spawnDaemon({
    dir: t.dir,
    args: worker ? ["--worker"] : [],
    env,
    logFile,
    readyTimeoutMs,
    isReady: async (pid) => {
      try {
        return (await request<PingReply>(t.dir.socketPath, { op: "ping" }, 2000)).pid === pid;
      } catch {
        return false;
      }
    },
  });
  if (!r.ok) {
    const now = probeNode(t.dir);
    if (now.state === "running" && now.pid !== r.pid) {
      throw new StateError(
        `node ${t.name} is already running (pid ${now.pid}): it was started at the same time`,
        `attach to it with bin/amoc attach${t.nameFlag}`,
      );
    }
    if (now.state === "stale") cleanStale(t.dir);
    process.stderr.write(`amoc: node ${t.name} did not start: ${r.reason}\n`);
    if (r.logTail) process.stderr.write(`last lines of ${logFile}:\n${r.logTail}\n`);
    return r.exitCode || 1;
  }
  const where = worker
    ? `cluster worker at ${t.settings.nats_url.join(",")}`
    : envValue(process.env, "nats_url")
      ? `console node in the cluster at ${t.settings.nats_url.join(",")}`
      : "local node";
  process.stdout.write(
    `amoc: node ${t.name} started (pid ${r.pid}, ${where})\n` +
      `  log:    ${logFile}\n` +
      `  attach: bin/amoc attach${t.nameFlag}   (Ctrl+D detaches, the node keeps running)\n` +
      `  stop:   bin/amoc stop${t.nameFlag}\n`,
  );
  if (envValue(process.env, "api_port") !== undefined) process.stdout.write(restLines(t.dir.dir, r.pid));
  return 0;
}

/**
 * The REST lines of a detached node: its log has them without the token, so the dashboard URL with the token is
 * printed here, to the terminal of the person who started it, from the node's api.json (0600).
 */
function restLines(dir: string, pid: number): string {
  const api = readApiRuntime(apiFile(dir));
  if (!api || api.pid !== pid) return `  REST:   see the log (auth off, or the API did not start)\n`;
  return `  REST:   ${api.url} (Swagger UI: ${api.url}/api-docs; token in ${apiFile(dir)})\n  dashboard: ${api.url}/?token=${api.token}\n`;
}
