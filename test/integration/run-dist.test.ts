/** `bin/amoc run --dist` end to end: real NATS, real workers, the master as the CLI process. */
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NatsCluster } from "../helpers/nats-cluster.js";
import { clusterEnv, spawnAmoc } from "../helpers/proc.js";
import { until } from "../helpers/wait.js";

const FIXTURES = new URL("../fixtures/scenarios", import.meta.url).pathname;
const CLUSTER = `rd${process.pid}`;
let nats: NatsCluster;
const procs: ChildProcess[] = [];

const env = (name: string, extra: NodeJS.ProcessEnv = {}) => clusterEnv(nats, CLUSTER, name, extra);
/** Starts a process and collects its output. */
const start = (args: string[], e: NodeJS.ProcessEnv) => spawnAmoc(args, e, procs);

beforeAll(async () => {
  nats = await NatsCluster.start(1);
}, 60_000);

afterAll(async () => {
  for (const p of procs) p.kill("SIGKILL");
  await nats?.stop();
});

describe("bin/amoc run --dist", () => {
  it("says who it waits for, names a worker that failed to start its share, exits 1, and sums the metrics", async () => {
    const w1 = start(["worker"], env("w1"));
    // w2 has no 'dummy' scenario: it cannot prepare the run
    const w2 = start(["worker"], env("w2", { AMOC_SCENARIOS_DIR: FIXTURES }));
    await until(
      () => /joined cluster/.test(w1.err()) && /joined cluster/.test(w2.err()),
      60_000,
      "two workers joined",
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nw1: ${w1.err()}\nw2: ${w2.err()}`);
    });
    const run = start(
      ["run", "dummy", "--dist", "--workers", "3", "--users", "12", "--interarrival", "0", "--repeat", "1", "--json"],
      env("m1"),
    );
    await until(
      () => /waiting for 3 workers: 2 up \(w1, w2\), 1 more to join/.test(run.err()),
      60_000,
      "the waiting line",
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nrun: ${run.err()}`);
    });
    start(["worker"], env("w3"));
    const code = await Promise.race([
      run.exit,
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`run did not end\n${run.err()}`)), 120_000)),
    ]);
    expect(run.err()).toMatch(/node w2 failed to start its share of the users: .*unknown scenario 'dummy'/);
    expect(code).toBe(1);
    const s = JSON.parse(run.out());
    // w2's share was dealt to the others: every user ran once
    expect(s.users).toMatchObject({ started: 12, finished: 12, crashed: 0 });
    expect(s.metrics["dummy.runs"]).toEqual({ count: 12 });
    expect(Object.keys(s.nodes).sort()).toEqual(expect.arrayContaining(["w1", "w3"]));
  }, 240_000);
});
