/**
 * `bin/amoc capacity --dist` with a worker that runs out of file descriptors: real NATS, one `bin/amoc worker` under
 * `prlimit --nofile=200`, the test run's Prosody. The worker's own health (open files near its limit, users crashing
 * on EMFILE) comes with its intervals, so the step it could not drive is reported as generator-limited, naming it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prosodyUrl } from "../helpers/endpoints.js";
import { NatsCluster } from "../helpers/nats-cluster.js";
import { AMOC, amoc } from "../helpers/proc.js";

let nats: NatsCluster;
let dir: string;
let worker: ChildProcess | undefined;
const CLUSTER = `capdist${process.pid}`;

const env = (name: string): NodeJS.ProcessEnv => ({
  AMOC_NODE_NAME: name,
  AMOC_NATS_URL: nats.urls.join(","),
  AMOC_CLUSTER_NAME: CLUSTER,
  AMOC_LOG_LEVEL: "warn",
  AMOC_DATA_DIR: join(dir, name),
  AMOC_XMPP_SERVERS: prosodyUrl("xmpp"),
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "amoc-capdist-"));
  nats = await NatsCluster.start(1);
  const w = spawn("prlimit", ["--nofile=200:200", AMOC, "worker"], {
    env: { ...process.env, ...env("w1") },
    stdio: ["ignore", "ignore", "pipe"],
  });
  worker = w;
  let err = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the worker did not join: ${err}`)), 60_000);
    w.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      if (/joined cluster/.test(err)) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}, 90_000);

afterAll(async () => {
  worker?.kill("SIGKILL");
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("amoc capacity --dist with a worker out of file descriptors", () => {
  it("reports the step that worker could not drive as generator-limited, never as a capacity", async () => {
    const r = await amoc(
      [
        "capacity",
        "login_storm",
        "--dist",
        ...["--workers", "1", "--start", "50", "--step", "50", "--max", "400", "--hold", "3s"],
        ...["--set", "hold_ms=60000", "--set", "interarrival=5", "--set", "xmpp_connect_timeout=2000"],
        ...["--slo", "users.crashed==0"],
      ],
      { env: env("m"), timeoutMs: 80_000 },
    );
    expect(r.stdout, r.stderr).toMatch(/step +50 users +ok/);
    // the worker's fd gauge names it; on a loaded machine its users' EMFILE crashes may be judged first
    expect(r.stdout).toMatch(
      /capacity: not measured: the failing step was limited by the generator \((worker w1: |users crashed on the generator's fd\/port exhaustion)/,
    );
    expect(r.code).toBe(1);
  }, 90_000);
});
