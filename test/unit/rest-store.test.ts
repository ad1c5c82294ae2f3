/** Uploaded-scenario stores: the cluster's bucket (chunked, compare-and-set index) and a node's data directory. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KvScenarioStore } from "../../src/cluster/nats-scenario-store.js";
import { nodeDataDir } from "../../src/cluster/scenario-store.js";
import { DirScenarioStore } from "../../src/scenario/upload-dir-store.js";
import { sourceVersion } from "../../src/source-version.js";
import { FakeKv } from "../helpers/fake-bus.js";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "amoc-store-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("the bucket store", () => {
  it("a source stored on one node is written to another node's directory by version, chunked above 256 K characters", async () => {
    const kv = new FakeKv();
    const a = new KvScenarioStore(kv, tmp());
    const b = new KvScenarioStore(kv, tmp());
    const big = `export async function start() {}\n// ${"é".repeat(600_000)}\n`;
    const v = sourceVersion(big);
    expect(await a.put("big_one", v, big)).toEqual({ unchanged: false });
    expect(JSON.parse(kv.peek(`uploads.src.${v}`)!)).toMatchObject({ chunks: 3 });
    const file = await b.file("big_one", v);
    expect(file.endsWith(`${v}/big_one.ts`)).toBe(true);
    expect(readFileSync(file, "utf8")).toBe(big);
    expect(await b.latest("big_one")).toMatchObject({ name: "big_one", version: v });
  });
  it("a re-upload moves the newest version and the old one leaves the bucket (a node that loaded it keeps its copy); the same source is unchanged", async () => {
    const kv = new FakeKv();
    const s = new KvScenarioStore(kv, tmp());
    const [a, b] = ["export async function start() {}", "export async function start() { }"];
    await s.put("x", sourceVersion(a), a);
    const loaded = await s.file("x", sourceVersion(a));
    expect(await s.put("x", sourceVersion(b), b)).toEqual({ unchanged: false });
    expect(await s.put("x", sourceVersion(b), b)).toEqual({ unchanged: true });
    expect((await s.latest("x"))?.version).toBe(sourceVersion(b));
    expect(kv.peek(`uploads.src.${sourceVersion(a)}`)).toBeUndefined();
    expect(readFileSync(await s.file("x", sourceVersion(a)), "utf8")).toBe(a);
    expect(readFileSync(loaded, "utf8")).toBe(a);
    await expect(new KvScenarioStore(kv, tmp()).file("x", sourceVersion(a))).rejects.toMatchObject({
      code: "SCENARIO_NOT_FOUND",
    });
  });
  it("two nodes uploading different names at once both land in the index", async () => {
    const kv = new FakeKv();
    const [a, b] = [new KvScenarioStore(kv, tmp()), new KvScenarioStore(kv, tmp())];
    await Promise.all([
      a.put("one", sourceVersion("a"), "a"),
      b.put("two", sourceVersion("b"), "b"),
      a.put("three", sourceVersion("c"), "c"),
    ]);
    expect((await b.list()).map((e) => e.name)).toEqual(["one", "three", "two"]);
  });
  it("an unknown version or name is SCENARIO_NOT_FOUND / null, and prototype names are not entries", async () => {
    const s = new KvScenarioStore(new FakeKv(), tmp());
    await expect(s.file("x", "nope")).rejects.toMatchObject({ code: "SCENARIO_NOT_FOUND" });
    expect(await s.latest("constructor")).toBeNull();
  });
});

describe("the data-directory store", () => {
  it("stores by version with an index of the newest, and survives a new instance", async () => {
    const d = tmp();
    const s = new DirScenarioStore(d);
    await s.put("x", "v1", "a");
    await s.put("x", "v2", "b");
    const again = new DirScenarioStore(d);
    expect(await again.list()).toEqual([expect.objectContaining({ name: "x", version: "v2" })]);
    expect(readFileSync(await again.file("x", "v1"), "utf8")).toBe("a");
    await expect(again.file("x", "v9")).rejects.toMatchObject({ code: "SCENARIO_NOT_FOUND" });
    expect(await again.latest("toString")).toBeNull();
  });
  it("a node's data directory is data_dir, else <AMOC_RUN_DIR>/amoc/<node>", () => {
    expect(nodeDataDir({ data_dir: "/x/y", node_name: "n" })).toBe("/x/y");
    expect(nodeDataDir({ data_dir: "", node_name: "n" }, { AMOC_RUN_DIR: "/r" })).toBe("/r/amoc/n");
  });
});

describe("the prepare command", () => {
  it("carries an optional scenario version, checked on arrival", async () => {
    const { decode, COMMAND_TYPES } = await import("../../src/cluster/protocol.js");
    const base = {
      v: 1,
      type: "prepare",
      from: "m",
      runId: "r1",
      scenario: "up_x",
      settings: {},
      cluster: "amoc",
      to: "boot1",
    };
    expect(decode(JSON.stringify({ ...base, version: "0123456789abcdef" }), COMMAND_TYPES)).toMatchObject({
      ok: true,
      msg: { version: "0123456789abcdef" },
    });
    expect(decode(JSON.stringify(base), COMMAND_TYPES).ok).toBe(true);
    expect(decode(JSON.stringify({ ...base, version: 7 }), COMMAND_TYPES)).toMatchObject({
      ok: false,
      reason: expect.stringContaining("version"),
    });
  });
});
