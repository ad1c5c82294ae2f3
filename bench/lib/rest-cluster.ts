/**
 * The cluster the REST benchmarks stand up: `bin/amoc worker` processes on one private nats-server (one server, not a
 * NATS cluster), and in this process a node whose dist Node API is served by the REST server with its own token.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { startRestServer } from "../../src/api/rest/start.js";
import { createNode, type AmocNode } from "../../src/node/amoc-node.js";
import { nodeApis } from "../../src/node/apis.js";
import type { NodeApi } from "../../src/node/node-api.js";
import { freePort, NatsCluster } from "../../test/helpers/nats-cluster.js";

const AMOC = new URL("../../bin/amoc", import.meta.url).pathname;
const TICKS = 100; // USER_HZ on Linux: /proc/<pid>/stat times are in 1/100 s

export interface BenchCluster {
  node: AmocNode;
  dist: NodeApi;
  url: string;
  headers: Record<string, string>;
  workers: Map<string, ChildProcess>;
  /** A REST call with the token; throws on a non-2xx answer, with its body. */
  call(method: string, path: string, body?: unknown): Promise<Record<string, any>>;
  /** Polls an async condition every `pollMs`; throws after `timeoutMs`, saying what it waited for. */
  until(cond: () => Promise<boolean>, timeoutMs: number, what: string, pollMs?: number): Promise<void>;
  /** Waits until every worker has joined (GET /nodes). */
  waitForWorkers(timeoutMs?: number): Promise<void>;
  /** The workers' CPU ticks so far (utime + stime from /proc), and how many ticks make a second. */
  workerTicks(): number;
  readonly ticksPerSecond: number;
  close(): Promise<void>;
}

/** Starts nats-server, the workers named `workers`, and the REST node `apiNode` (cluster `<tag><pid>`). */
export async function startBenchCluster(tag: string, workerNames: string[], apiNode: string): Promise<BenchCluster> {
  const runDir = resolve(`.run/bench/${tag}-${process.pid}`);
  const nats = await NatsCluster.start(1);
  mkdirSync(runDir, { recursive: true });
  const env = (name: string): NodeJS.ProcessEnv => ({
    ...process.env,
    AMOC_NODE_NAME: name,
    AMOC_CLUSTER_NAME: `${tag}bench${process.pid}`,
    AMOC_NATS_URL: nats.urls.join(","),
    AMOC_LOG_LEVEL: "error",
    AMOC_RUN_DIR: runDir,
  });
  const workers = new Map<string, ChildProcess>();
  for (const w of workerNames) workers.set(w, spawn(AMOC, ["worker"], { env: env(w), stdio: "ignore" }));
  // the REST API wants a bearer token: the benchmark sets its own and sends it
  const token = randomBytes(24).toString("hex");
  const node = createNode({
    env: { ...env(apiNode), AMOC_API_PORT: String(await freePort()), AMOC_API_TOKEN: token },
  });
  const dist = nodeApis(node).dist;
  const server = await startRestServer(dist, node.settings, node.log);
  const headers = { authorization: `Bearer ${token}` };

  async function call(method: string, path: string, body?: unknown): Promise<Record<string, any>> {
    const h: Record<string, string> = { ...headers };
    const init: RequestInit = { method, headers: h };
    if (typeof body === "string") init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      h["content-type"] = "application/json";
    }
    const r = await fetch(server.url + path, init);
    const j = (await r.json()) as Record<string, any>;
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
    return j;
  }
  async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string, pollMs = 10): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > end) throw new Error(`bench wait timed out: ${what}`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
  return {
    node,
    dist,
    url: server.url,
    headers,
    workers,
    call,
    until,
    waitForWorkers: (timeoutMs = 60_000) =>
      until(
        async () =>
          ((await call("GET", "/nodes")).details as Array<{ role: string }>).filter((n) => n.role === "worker")
            .length === workerNames.length,
        timeoutMs,
        `${workerNames.length} workers`,
      ),
    workerTicks() {
      let t = 0;
      for (const p of workers.values()) {
        const s = readFileSync(`/proc/${p.pid}/stat`, "utf8");
        const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
        t += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
      }
      return t;
    },
    ticksPerSecond: TICKS,
    async close() {
      await server.close();
      for (const p of workers.values()) p.kill("SIGTERM");
      await node.close();
      await nats.stop();
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}
