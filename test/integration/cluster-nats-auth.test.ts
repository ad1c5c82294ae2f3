/** A worker's credentials against a real nats-server with authorization, and uploads in its real bucket. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClusterBus } from "../../src/cluster/bus.js";
import { connectBus } from "../../src/cluster/nats-bus.js";
import { KvScenarioStore } from "../../src/cluster/nats-scenario-store.js";
import { sourceVersion } from "../../src/source-version.js";
import { loadNodeSettings } from "../../src/config/load.js";
import { AmocError } from "../../src/errors.js";
import { memoryLogger } from "../helpers/fake-cluster.js";
import { NatsCluster, userAuth } from "../helpers/nats-cluster.js";

let nats: NatsCluster;
const buses: ClusterBus[] = [];
const dirs: string[] = [];
beforeAll(async () => {
  nats = await NatsCluster.start(1, userAuth("amoc", "right-password"));
}, 60_000);
afterAll(async () => {
  for (const b of buses) await b.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await nats?.stop();
});

const settings = (env: Record<string, string>) =>
  loadNodeSettings({ env: { AMOC_NATS_URL: nats.urls.join(","), AMOC_NODE_NAME: "w1", ...env } });

async function connected(env: Record<string, string>): Promise<ClusterBus> {
  const bus = await connectBus(settings(env), "auth_state", memoryLogger().log);
  buses.push(bus);
  return bus;
}

/** The error connecting with `env` fails with. */
async function refusal(env: Record<string, string>): Promise<AmocError> {
  const e = await connected(env).then(
    () => new Error("connected"),
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(AmocError);
  return e as AmocError;
}

describe("a worker connecting to a NATS with authorization", () => {
  it("with a wrong password is refused with a message that names the credentials settings", async () => {
    const e = await refusal({ AMOC_NATS_USER: "amoc", AMOC_NATS_PASSWORD: "wrong" });
    expect(e.code).toBe("CLUSTER_UNAVAILABLE");
    expect(e.message).toMatch(/refused this node's credentials \(it connected with user 'amoc'/);
    expect(e.hint).toMatch(/AMOC_NATS_USER.*AMOC_NATS_PASSWORD.*AMOC_NATS_TOKEN/);
  }, 30_000);

  it("with no credentials is refused with the same clear message", async () => {
    const e = await refusal({});
    expect(e.message).toMatch(/refused this node's credentials \(it connected with no credentials\)/);
    expect(e.hint).toMatch(/AMOC_NATS_USER/);
  }, 30_000);

  it("with the right credentials connects and opens the bucket", async () => {
    const bus = await connected({ AMOC_NATS_USER: "amoc", AMOC_NATS_PASSWORD: "right-password" });
    const kv = await bus.kv();
    await kv.put("probe", "ok");
    expect((await kv.get("probe"))?.value).toBe("ok");
  }, 30_000);
});

describe("uploads in the real bucket", () => {
  it("a large upload with an emoji cut by a chunk boundary comes back byte for byte", async () => {
    const bus = await connected({ AMOC_NATS_USER: "amoc", AMOC_NATS_PASSWORD: "right-password" });
    const kv = await bus.kv();
    // 512 KiB of UTF-8 per chunk: the 4-byte emoji starts 2 bytes before the first boundary
    const source = `${"/".repeat(512 * 1024 - 2)}🎉\n${"// é ü 🎉 😀\n".repeat(20_000)}export async function start() {}\n`;
    expect(
      Buffer.from(source)
        .subarray(512 * 1024 - 2, 512 * 1024 + 2)
        .toString(),
    ).toBe("🎉");
    const version = sourceVersion(source);
    await new KvScenarioStore(kv, tmp()).put("big_emoji", version, source);
    const file = await new KvScenarioStore(kv, tmp()).file("big_emoji", version);
    expect(readFileSync(file, "utf8") === source).toBe(true);
  }, 60_000);

  it("a chunk changed in the bucket is refused: the content no longer hashes to its version", async () => {
    const bus = await connected({ AMOC_NATS_USER: "amoc", AMOC_NATS_PASSWORD: "right-password" });
    const kv = await bus.kv();
    const source = "export async function start() {}\n";
    const version = sourceVersion(source);
    await new KvScenarioStore(kv, tmp()).put("tampered", version, source);
    await kv.put(`uploads.src.${version}.0`, Buffer.from("import('node:child_process')").toString("base64"));
    await expect(new KvScenarioStore(kv, tmp()).file("tampered", version)).rejects.toThrow(/does not hash to/);
  }, 30_000);

  it("a version or name that is not one never reaches the cache path", async () => {
    const bus = await connected({ AMOC_NATS_USER: "amoc", AMOC_NATS_PASSWORD: "right-password" });
    const store = new KvScenarioStore(await bus.kv(), tmp());
    await expect(store.file("x", "../../../etc")).rejects.toThrow(/is not a scenario version/);
    await expect(store.file("../x", "0123456789abcdef")).rejects.toThrow(/is not a scenario name/);
  }, 30_000);
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "amoc-uploads-"));
  dirs.push(d);
  return d;
}
