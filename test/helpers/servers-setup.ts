/**
 * Vitest global setup of the integration project: starts the real servers that are not already running (through
 * the project's own scripts/servers.sh) and, at the end, stops exactly the ones it started, so a developer's
 * `make servers-up` survives a test run.
 */
import { execFileSync, spawnSync } from "node:child_process";

const SERVERS = new URL("../../scripts/servers.sh", import.meta.url).pathname;
// the cluster tests start their own NATS servers on free ports (test/helpers/nats-cluster.ts)
const UNITS = (process.env.AMOC_TEST_SERVERS ?? "prosody ejabberd graphite").split(/\s+/).filter(Boolean);

function isUp(unit: string): boolean {
  return spawnSync("bash", [SERVERS, "status", unit], { stdio: "ignore" }).status === 0;
}

export default function setup(): () => void {
  const started = UNITS.filter((u) => !isUp(u));
  if (started.length) {
    const t0 = Date.now();
    // the tests use a few hundred accounts; provisioning 20,000 on a fresh ejabberd costs seconds
    const env = { ...process.env, AMOC_PROVISION_USERS: process.env.AMOC_PROVISION_USERS ?? "2000" };
    execFileSync("bash", [SERVERS, "up", ...started], { stdio: ["ignore", "inherit", "inherit"], timeout: 240_000, env });
    process.stderr.write(`[servers-setup] started ${started.join(" ")} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }
  return () => {
    if (started.length) execFileSync("bash", [SERVERS, "down", ...started], { stdio: ["ignore", "inherit", "inherit"], timeout: 120_000 });
  };
}
