/**
 * Uploaded sources in the cluster's JetStream key-value bucket, by content hash, so every node (one joining later
 * too) loads the version a run names. Sources are stored in chunks (a NATS message is at most 1 MB) next to an
 * index of the newest version of each name; a node writes the version it needs under its data directory once.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ClusterError, ScenarioError, errorMessage } from "../errors.js";
import type { KvStore } from "./bus.js";
import { uploadedFile, type ScenarioStore, type StoredScenario } from "./scenario-store.js";

/** Characters per chunk: at most 768 KB of UTF-8, under NATS's default 1 MB payload. */
const CHUNK_CHARS = 256 * 1024;
const INDEX_KEY = "uploads.index";
const srcKey = (version: string, i: number) => `uploads.src.${version}.${i}`;
const metaKey = (version: string) => `uploads.src.${version}`;

/** Uploaded scenarios in a key-value bucket, with a local cache directory of the versions this node loaded. */
export class KvScenarioStore implements ScenarioStore {
  constructor(
    private readonly kv: KvStore,
    private readonly cacheDir: string,
  ) {}

  private async index(): Promise<{ entries: Record<string, StoredScenario>; revision: number | null }> {
    const e = await this.kv.get(INDEX_KEY);
    return e ? { entries: JSON.parse(e.value) as Record<string, StoredScenario>, revision: e.revision } : { entries: {}, revision: null };
  }

  async put(name: string, version: string, source: string): Promise<{ unchanged: boolean }> {
    if (!(await this.kv.get(metaKey(version)))) {
      const n = Math.max(1, Math.ceil(source.length / CHUNK_CHARS));
      for (let i = 0; i < n; i++) await this.kv.put(srcKey(version, i), source.slice(i * CHUNK_CHARS, (i + 1) * CHUNK_CHARS));
      // the meta key last: a reader that sees it finds every chunk
      await this.kv.put(metaKey(version), JSON.stringify({ chunks: n, chars: source.length }));
    }
    // compare-and-set on the index: two nodes uploading at once both land
    for (let attempt = 0; ; attempt++) {
      const { entries, revision } = await this.index();
      if (Object.hasOwn(entries, name) && entries[name]?.version === version) return { unchanged: true };
      entries[name] = { name, version, uploadedAt: new Date().toISOString() };
      try {
        if (revision === null) await this.kv.create(INDEX_KEY, JSON.stringify(entries));
        else await this.kv.update(INDEX_KEY, JSON.stringify(entries), revision);
        return { unchanged: false };
      } catch (e) {
        if (attempt >= 20) throw new ClusterError("CLUSTER_BUSY", `cannot record the upload of ${name}: ${errorMessage(e)}`, "retry the upload");
      }
    }
  }

  async list(): Promise<StoredScenario[]> {
    return Object.values((await this.index()).entries).sort((a, b) => a.name.localeCompare(b.name));
  }

  async latest(name: string): Promise<StoredScenario | null> {
    const { entries } = await this.index();
    return Object.hasOwn(entries, name) ? (entries[name] as StoredScenario) : null;
  }

  async file(name: string, version: string): Promise<string> {
    const file = uploadedFile(this.cacheDir, name, version);
    if (existsSync(file)) return file;
    const meta = await this.kv.get(metaKey(version));
    if (!meta) throw new ScenarioError("SCENARIO_NOT_FOUND", `uploaded scenario ${name} version ${version} is not in the cluster's bucket`, "upload it again (PUT /scenarios/upload)");
    const { chunks } = JSON.parse(meta.value) as { chunks: number };
    let source = "";
    for (let i = 0; i < chunks; i++) {
      const c = await this.kv.get(srcKey(version, i));
      if (!c) throw new ScenarioError("SCENARIO_NOT_FOUND", `uploaded scenario ${name} version ${version} misses part ${i} in the bucket`, "upload it again");
      source += c.value;
    }
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, source);
    renameSync(tmp, file);
    return file;
  }
}
