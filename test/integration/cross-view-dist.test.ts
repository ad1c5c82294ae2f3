/**
 * The cross-view check (test/helpers/cross-view.ts) over a cluster: `bin/amoc run --dist --workers 3` with three
 * `bin/amoc worker` processes on a real nats-server; the known samples are spread over the workers, so every view
 * must show the numbers of the merged histograms.
 */
import { dirname, join } from "node:path";
import { describe, it } from "vitest";
import { useDistScratch } from "../helpers/dist-scratch.js";
import { expectViewsAgree, KNOWN_SAMPLES, viewArgs } from "../helpers/cross-view.js";
import { amoc, startWorkers } from "../helpers/proc.js";

const CLUSTER = `cv${process.pid}`;
const scratch = useDistScratch("amoc-views-dist-");
const { procs } = scratch;

/** Every node loads the fixture by name from the fixtures directory; each has its own data directory. */
function env(name: string): NodeJS.ProcessEnv {
  return {
    AMOC_NODE_NAME: name,
    AMOC_NATS_URL: scratch.nats.urls.join(","),
    AMOC_CLUSTER_NAME: CLUSTER,
    AMOC_SCENARIOS_DIR: dirname(KNOWN_SAMPLES),
    AMOC_DATA_DIR: join(scratch.dir, name),
  };
}

describe("one pipeline: every view of a run gives the same numbers (bin/amoc run --dist, 3 workers)", () => {
  it("summary, --json, thresholds, the HTML report, JUnit and the master's run store agree on count, min, max, p50 and p99", async () => {
    await startWorkers(["w1", "w2", "w3"], (name) => ({ AMOC_LOG_LEVEL: "warn", ...env(name) }), procs);
    const m = env("m");
    const r = await amoc(
      [
        "run",
        "known_samples",
        "--dist",
        "--workers",
        "3",
        "--users",
        "100",
        "--interarrival",
        "0",
        "--repeat",
        "1",
        ...viewArgs(join(scratch.dir, "m")),
      ],
      { env: m, timeoutMs: 120_000 },
    );
    await expectViewsAgree(r, join(scratch.dir, "m"), m);
  }, 240_000);
});
