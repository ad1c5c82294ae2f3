/** Housekeeping of uploaded versions in the bucket, and the index read as untrusted (in-memory bucket). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KvScenarioStore } from "../../src/cluster/nats-scenario-store.js";
import { pruneUploads } from "../../src/cluster/upload-keys.js";
import { RateLimitedLog } from "../../src/metrics/rate-limited-log.js";
import { sourceVersion } from "../../src/source-version.js";
import { FakeKv } from "../helpers/fake-bus.js";
import { FakeClock } from "../helpers/fake-clock.js";
import { fakeCluster, memoryLogger } from "../helpers/fake-cluster.js";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "amoc-prune-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const src = (i: number) => `export async function start() {}\n// ${i}\n`;
const versionsIn = async (kv: FakeKv) =>
  [...new Set((await kv.keys("uploads.src.>")).map((k) => k.split(".")[2]))].sort();

describe("pruning uploaded versions", () => {
  it("after several re-uploads of one name only its newest version is in the bucket", async () => {
    const kv = new FakeKv();
    const s = new KvScenarioStore(kv, tmp());
    for (let i = 0; i < 6; i++) await s.put("x", sourceVersion(src(i)), src(i));
    expect(await versionsIn(kv)).toEqual([sourceVersion(src(5))]);
  });

  it("a version that is the newest of another name survives the re-upload of the first", async () => {
    const kv = new FakeKv();
    const s = new KvScenarioStore(kv, tmp());
    await s.put("x", sourceVersion(src(0)), src(0));
    await s.put("y", sourceVersion(src(0)), src(0));
    await s.put("x", sourceVersion(src(1)), src(1));
    expect(await versionsIn(kv)).toEqual([sourceVersion(src(0)), sourceVersion(src(1))].sort());
  });

  it("the running run's version survives a re-upload and goes when a run of another version starts", async () => {
    const kv = new FakeKv();
    const s = new KvScenarioStore(kv, tmp());
    const [v0, v1] = [sourceVersion(src(0)), sourceVersion(src(1))];
    await s.put("x", v0, src(0));
    await kv.put("run", JSON.stringify({ state: "running", version: v0 }));
    await s.put("x", v1, src(1));
    expect(await versionsIn(kv)).toEqual([v0, v1].sort());
    const log = memoryLogger().log;
    expect(await pruneUploads(kv, new RateLimitedLog(log, "t"), log, { running: v1 })).toBe(1);
    expect(await versionsIn(kv)).toEqual([v1]);
  });

  it("nothing is pruned while the run record cannot be read", async () => {
    const kv = new FakeKv();
    const s = new KvScenarioStore(kv, tmp());
    await s.put("x", sourceVersion(src(0)), src(0));
    kv.failGet = (k) => k === "run";
    await s.put("x", sourceVersion(src(1)), src(1));
    expect((await versionsIn(kv)).length).toBe(2);
  });

  it("chunks left by an upload that failed half-way are removed when the next run starts", async () => {
    const kv = new FakeKv();
    await kv.put("uploads.src.00000000000000aa.0", "AAAA");
    const log = memoryLogger().log;
    expect(await pruneUploads(kv, new RateLimitedLog(log, "t"), log)).toBe(1);
    expect(await kv.keys("uploads.>")).toEqual([]);
  });
});

describe("reading the uploads index", () => {
  it("bad entries are skipped with one warning per interval, and the good ones are still listed", async () => {
    const kv = new FakeKv();
    const { log, lines } = memoryLogger();
    const clock = new FakeClock();
    const s = new KvScenarioStore(kv, tmp(), { log, clock });
    const v = sourceVersion(src(0));
    await s.put("good", v, src(0));
    const index = JSON.parse(kv.peek("uploads.index")!) as Record<string, unknown>;
    await kv.put(
      "uploads.index",
      JSON.stringify({
        ...index,
        "../evil": { name: "../evil", version: v, uploadedAt: "x" },
        badver: { name: "badver", version: "../../etc", uploadedAt: "x" },
        other: { name: "notother", version: v, uploadedAt: "x" },
        nul: null,
      }),
    );
    expect((await s.list()).map((e) => e.name)).toEqual(["good"]);
    expect((await s.list()).map((e) => e.name)).toEqual(["good"]);
    expect(await s.latest("badver")).toBeNull();
    expect(lines.filter((l) => l.msg === "uploads_index_entry_skipped")).toHaveLength(1);
  });

  it("an index that is not JSON lists nothing instead of failing, and the next upload replaces it", async () => {
    const kv = new FakeKv();
    const { log, lines } = memoryLogger();
    const s = new KvScenarioStore(kv, tmp(), { log });
    await kv.put("uploads.index", "{not json");
    expect(await s.list()).toEqual([]);
    await s.put("x", sourceVersion(src(0)), src(0));
    expect((await s.list()).map((e) => e.name)).toEqual(["x"]);
    expect(lines.some((l) => l.msg === "uploads_index_entry_skipped")).toBe(true);
  });
});

describe("a master starting a run", () => {
  it("removes the uploaded versions that no name is at and the new run does not use", async () => {
    const c = await fakeCluster(1);
    try {
      const kv = c.net.kv;
      const s = new KvScenarioStore(kv, tmp());
      await s.put("kept", sourceVersion(src(1)), src(1));
      await kv.put("uploads.src.00000000000000aa", JSON.stringify({ chunks: 1, encoding: "base64" }));
      await kv.put("uploads.src.00000000000000aa.0", "AAAA");
      await c.master.master!.do("lifecycle", 1, 1, { settings: { interarrival: 0, repeat_num: 1, delay_ms: 0 } });
      expect(await versionsIn(kv)).toEqual([sourceVersion(src(1))]);
      await c.master.master!.stop();
    } finally {
      await c.close();
    }
  });
});
