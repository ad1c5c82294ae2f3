/** Uploaded versions in a real JetStream bucket: re-uploads do not fill it, a running run's version stays. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClusterBus, KvStore } from "../../src/cluster/bus.js";
import { connectBus } from "../../src/cluster/nats-bus.js";
import { KvScenarioStore } from "../../src/cluster/nats-scenario-store.js";
import { pruneUploads } from "../../src/cluster/upload-keys.js";
import { loadNodeSettings } from "../../src/config/load.js";
import { RateLimitedLog } from "../../src/metrics/rate-limited-log.js";
import { sourceVersion } from "../../src/source-version.js";
import { memoryLogger } from "../helpers/fake-cluster.js";
import { NatsCluster } from "../helpers/nats-cluster.js";

let nats: NatsCluster;
const buses: ClusterBus[] = [];
const dirs: string[] = [];
beforeAll(async () => {
  nats = await NatsCluster.start(1);
}, 60_000);
afterAll(async () => {
  for (const b of buses) await b.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await nats?.stop();
});

/** A bucket of its own per test (one cluster_name each). */
async function bucket(cluster: string): Promise<KvStore> {
  const s = loadNodeSettings({ env: { AMOC_NATS_URL: nats.urls.join(","), AMOC_NODE_NAME: "m1" } });
  const bus = await connectBus(s, `${cluster}_state`, memoryLogger().log);
  buses.push(bus);
  return bus.kv();
}
function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "amoc-prune-"));
  dirs.push(d);
  return d;
}
/** A ~700 KB source (two chunks), different for each `i`. */
const big = (i: number) => `export async function start() {}\n// ${i} ${"x".repeat(700 * 1024)}\n`;

describe("uploaded versions in the cluster's bucket", () => {
  it("after more re-uploads of one name than the 128 MB bucket holds versions, only the newest version's keys remain", async () => {
    const kv = await bucket("p1");
    const s = new KvScenarioStore(kv, tmp());
    // 150 versions of ~1 MB (base64) each: without pruning the upload after ~130 fails with "maximum bytes exceeded"
    for (let i = 0; i < 150; i++) await s.put("big", sourceVersion(big(i)), big(i));
    const v = sourceVersion(big(149));
    expect((await kv.keys("uploads.src.>")).sort()).toEqual(
      [`uploads.src.${v}`, `uploads.src.${v}.0`, `uploads.src.${v}.1`].sort(),
    );
    expect((await s.list()).map((e) => e.version)).toEqual([v]);
  }, 240_000);

  it("the version a running run uses survives a re-upload until the next run starts", async () => {
    const kv = await bucket("p2");
    const s = new KvScenarioStore(kv, tmp());
    const [v0, v1] = [sourceVersion(big(0)), sourceVersion(big(1))];
    await s.put("big", v0, big(0));
    // the master's run record names the version every node loads
    await kv.put("run", JSON.stringify({ v: 1, runId: "r1", state: "running", version: v0 }));
    await s.put("big", v1, big(1));
    expect(await kv.keys(`uploads.src.${v0}.>`)).toHaveLength(2);
    // a worker joining the run now still loads it
    expect(await new KvScenarioStore(kv, tmp()).file("big", v0)).toMatch(/big\.ts$/);
    // the next run (of v1) starts: the master prunes next to the other runs' keys
    await kv.put("run", JSON.stringify({ v: 1, runId: "r2", state: "running", version: v1 }));
    const log = memoryLogger().log;
    expect(await pruneUploads(kv, new RateLimitedLog(log, "t"), log, { running: v1 })).toBe(1);
    expect(await kv.keys(`uploads.src.${v0}.>`)).toEqual([]);
    expect(await kv.keys(`uploads.src.${v1}.>`)).toHaveLength(2);
  }, 120_000);

  it("a corrupt index entry is skipped and listing and uploading still work", async () => {
    const kv = await bucket("p3");
    const { log, lines } = memoryLogger();
    const s = new KvScenarioStore(kv, tmp(), { log });
    const src = "export async function start() {}\n";
    await s.put("good", sourceVersion(src), src);
    const index = JSON.parse((await kv.get("uploads.index"))!.value) as Record<string, unknown>;
    await kv.put("uploads.index", JSON.stringify({ ...index, evil: { name: "evil", version: "../../../tmp/x" } }));
    expect((await s.list()).map((e) => e.name)).toEqual(["good"]);
    expect(lines.filter((l) => l.msg === "uploads_index_entry_skipped")).toHaveLength(1);
    const other = "export async function start() { }\n";
    await s.put("other", sourceVersion(other), other);
    expect((await s.list()).map((e) => e.name)).toEqual(["good", "other"]);
  }, 60_000);
});
