/**
 * Vitest global setup of the integration project. For each server group (prosody, ejabberd, graphite): when the shared
 * one runs (`make servers-up`, today's fixed ports) the tests use it; otherwise this setup starts a private one through
 * scripts/servers.sh on free loopback ports in a run directory of its own, and stops exactly those at the end. The
 * endpoints are published with `provide("amocEndpoints", ...)`; tests read them through test/helpers/endpoints.ts.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { createSocket } from "node:dgram";
import { existsSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import type { TestProject } from "vitest/node";
import { defaultEndpoints, serversEnv, type Endpoints } from "./endpoints.js";

const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const SERVERS = `${REPO}/scripts/servers.sh`;
// the cluster tests start their own NATS servers on free ports (test/helpers/nats-cluster.ts)
const GROUPS = (process.env.AMOC_TEST_SERVERS ?? "prosody ejabberd graphite").split(/\s+/).filter(Boolean);

function isUp(group: string, env: NodeJS.ProcessEnv): boolean {
  return spawnSync("bash", [SERVERS, "status", group], { stdio: "ignore", env }).status === 0;
}

/** `n` distinct free TCP ports on 127.0.0.1 (all held open until every one is chosen, so none repeats). */
export async function freeTcpPorts(n: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createServer();
      await new Promise<void>((resolve, reject) => s.once("error", reject).listen(0, "127.0.0.1", resolve));
      servers.push(s);
    }
    return servers.map((s) => (s.address() as AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** A free UDP port on 127.0.0.1 not in `taken`. */
async function freeUdpPort(taken: number[]): Promise<number> {
  for (;;) {
    const sock = createSocket("udp4");
    await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
    const port = sock.address().port;
    await new Promise<void>((r) => sock.close(() => r()));
    if (!taken.includes(port)) return port;
  }
}

/** Endpoints for servers started here: the shared ones where they run, free ports in a private run dir for the rest. */
async function privateEndpoints(
  shared: Endpoints,
  start: string[],
  runDir: string,
): Promise<{ e: Endpoints; env: Record<string, string> }> {
  const tcp = await freeTcpPorts(11);
  const [pc2s, ptls, phttp, ec2s, etls, ehttp, mgmt, carbon, carbonQuery, web] = tcp as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const statsdPort = await freeUdpPort(tcp);
  const e: Endpoints = {
    // whisper files are read from the run dir of the graphite that runs
    runDir: start.includes("graphite") ? runDir : shared.runDir,
    prosody: start.includes("prosody") ? { c2s: pc2s, tls: ptls, http: phttp, runDir } : shared.prosody,
    ejabberd: start.includes("ejabberd") ? { c2s: ec2s, tls: etls, http: ehttp, runDir } : shared.ejabberd,
    statsd: start.includes("graphite") ? { host: "127.0.0.1", port: statsdPort } : shared.statsd,
    carbonPort: start.includes("graphite") ? carbon : shared.carbonPort,
    graphiteWeb: start.includes("graphite") ? `http://127.0.0.1:${web}` : shared.graphiteWeb,
  };
  // a private ejabberd needs its own Erlang node name: a shared ejabberd@localhost (make servers-up) would refuse it
  const env = {
    ...serversEnv(e),
    AMOC_RUN_DIR: runDir,
    STATSD_MGMT_PORT: String(mgmt),
    CARBON_QUERY_PORT: String(carbonQuery),
    EJABBERD_NODE: `ejabberd_t${process.pid}@localhost`,
  };
  return { e, env };
}

export default async function setup(project: TestProject): Promise<() => void> {
  const shared = defaultEndpoints(process.env);
  const start = GROUPS.filter((g) => !isUp(g, process.env));
  if (start.length === 0) {
    project.provide("amocEndpoints", shared);
    return () => {};
  }
  const runDir = `${shared.runDir}/test-${process.pid}`;
  mkdirSync(runDir, { recursive: true });
  // statsd is npm-installed into <run dir>/tools by scripts/install-deps.sh: share the installed copy
  if (existsSync(`${shared.runDir}/tools`) && !existsSync(`${runDir}/tools`))
    symlinkSync(`${shared.runDir}/tools`, `${runDir}/tools`);
  const { e, env } = await privateEndpoints(shared, start, runDir);
  const t0 = Date.now();
  // the tests use a few hundred accounts; provisioning 20,000 on a fresh ejabberd costs seconds
  const childEnv = { ...process.env, ...env, AMOC_PROVISION_USERS: process.env.AMOC_PROVISION_USERS ?? "2000" };
  const down = () =>
    execFileSync("bash", [SERVERS, "down", ...start], {
      stdio: ["ignore", "inherit", "inherit"],
      timeout: 120_000,
      env: childEnv,
    });
  try {
    execFileSync("bash", [SERVERS, "up", ...start], {
      stdio: ["ignore", "inherit", "inherit"],
      timeout: 240_000,
      env: childEnv,
    });
  } catch (err) {
    down();
    throw err;
  }
  process.stderr.write(
    `[servers-setup] started ${start.join(" ")} on free ports in ${runDir} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  project.provide("amocEndpoints", e);
  return () => {
    down();
    rmSync(runDir, { recursive: true, force: true });
  };
}
