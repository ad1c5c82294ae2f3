/**
 * The dashboard's browser test set-up: a NATS server, two `bin/amoc worker` processes (w2 serving the REST API with
 * a token and sampling the NATS server as its server under test), two stored runs, and a chromium page.
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { runStorePath } from "../../src/node/data-dir.js";
import { dashboardPage, launchChromium } from "./dashboard-page.js";
import { freePort, NatsCluster } from "./nats-cluster.js";
import { clusterEnv, spawnWorker } from "./proc.js";
import { syntheticRun } from "./results-synthetic.js";
import { untilAsync } from "./wait.js";

export interface DashboardCluster {
  nats: NatsCluster;
  url: string;
  browser: Browser;
  page: Page;
}

/** GET `url` with the bearer token, as JSON. */
export async function getJson(url: string, token: string): Promise<{ status: number; json: Record<string, any> }> {
  const r = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: r.status, json: (await r.json()) as Record<string, any> };
}

/** PATCH `url` with the bearer token and a JSON body. */
export const patchJson = (url: string, token: string, body: unknown) =>
  fetch(url, {
    method: "PATCH",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

/** Starts it all; the workers go to `procs` and the page's errors to `pageErrors`, for the caller to kill and check. */
export async function startDashboardCluster(o: {
  token: string;
  cluster: string;
  runDir: string;
  procs: Map<string, ChildProcess>;
  pageErrors: string[];
}): Promise<DashboardCluster> {
  mkdirSync(o.runDir, { recursive: true });
  // two stored runs for the history view before any run is started (the form's run is recorded beside them)
  const store = runStorePath("", { AMOC_RUN_DIR: o.runDir });
  syntheticRun({ storePath: store, nodes: 2, seconds: 20, usersPerNode: 10 });
  syntheticRun({ storePath: store, nodes: 2, seconds: 20, usersPerNode: 12, messagesPerS: 30 });
  const nats = await NatsCluster.start(1);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const start = (name: string, extra: NodeJS.ProcessEnv) =>
    o.procs.set(name, spawnWorker(name, clusterEnv(nats, o.cluster, name, { AMOC_RUN_DIR: o.runDir, ...extra })));
  start("w1", { AMOC_NODE_LABELS: "zone=a" });
  // the node recording the runs samples a "server under test": the NATS server, a real process of this machine
  start("w2", {
    AMOC_NODE_LABELS: "zone=b",
    AMOC_API_PORT: String(port),
    AMOC_API_TOKEN: o.token,
    AMOC_SUT_PROCESS: String(nats.pids[0]),
  });
  await untilAsync(async () => (await fetch(`${url}/health`)).status === 200, 60_000, "the REST API of w2");
  const workers = async () => (await getJson(`${url}/nodes`, o.token)).json.details as Array<{ role: string }>;
  await untilAsync(async () => (await workers()).filter((n) => n.role === "worker").length === 2, 30_000, "2 workers");
  const browser = await launchChromium();
  // 401/403 (the wrong token) and 400 (the broken upload) are expected answers, logged by chromium as failed loads
  const expected = /Failed to load resource: the server responded with a status of 40[013]/;
  const page = await dashboardPage(browser, o.pageErrors, expected);
  return { nats, url, browser, page };
}
