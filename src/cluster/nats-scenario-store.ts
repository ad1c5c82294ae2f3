/**
 * Uploaded sources in the cluster's JetStream key-value bucket, by content hash, so every node (one joining later
 * too) loads the version a run names. Sources are stored in chunks (a NATS message is at most 1 MB) next to an
 * index of the newest version of each name; a node writes the version it needs under its data directory once. A
 * version nothing uses any more leaves the bucket (upload-keys.ts), so re-uploads do not fill it.
 * The bucket is no more trusted than the network: a version is 16 hex digits (it names a cache directory), a name
 * follows the scenario-name rule, and what is read is hashed again and refused unless it is the version asked for.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { systemClock, type Clock } from "../clock.js";
import { ClusterError, ScenarioError, errorMessage } from "../errors.js";
import { silentLogger, type Logger } from "../log.js";
import { RateLimitedLog } from "../metrics/rate-limited-log.js";
import type { KvStore } from "./bus.js";
import { sourceVersion } from "../source-version.js";
import { SCENARIO_NAME_RE, VERSION_RE } from "./protocol.js";
import { uploadedFile, type ScenarioStore, type StoredScenario } from "./scenario-store.js";
import { INDEX_KEY, metaKey, pruneUploads, readUploadsIndex, srcKey, type UploadsIndex } from "./upload-keys.js";

/**
 * Bytes of UTF-8 per chunk, stored as base64 (~683 KB, under NATS's default 1 MB payload). Split by bytes, not
 * UTF-16 units: a cut through a character is joined again byte by byte before decoding.
 */
const CHUNK_BYTES = 512 * 1024;

/** Uploaded scenarios in a key-value bucket, with a local cache directory of the versions this node loaded. */
export class KvScenarioStore implements ScenarioStore {
  private readonly log: Logger;
  private readonly clock: Clock;
  /** Bad index entries are reported on every read: at most once per kind and interval. */
  private readonly badIndex: RateLimitedLog;

  constructor(
    private readonly kv: KvStore,
    private readonly cacheDir: string,
    opts: { log?: Logger; clock?: Clock } = {},
  ) {
    this.log = opts.log ?? silentLogger();
    this.clock = opts.clock ?? systemClock;
    this.badIndex = new RateLimitedLog(this.log, "uploads_index_entry_skipped", 60_000, this.clock);
  }

  private index(): Promise<UploadsIndex> {
    return readUploadsIndex(this.kv, this.badIndex);
  }

  /** Stores the source of a version (no name: a master's scenario given by path); its version is checked. */
  async putSource(version: string, source: string): Promise<void> {
    checkVersion(version, source);
    if (await this.kv.get(metaKey(version))) return;
    const bytes = Buffer.from(source, "utf8");
    const n = Math.max(1, Math.ceil(bytes.length / CHUNK_BYTES));
    for (let i = 0; i < n; i++)
      await this.kv.put(srcKey(version, i), bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES).toString("base64"));
    // the meta key last: a reader that sees it finds every chunk
    await this.kv.put(metaKey(version), JSON.stringify({ chunks: n, bytes: bytes.length, encoding: "base64" }));
  }

  async put(name: string, version: string, source: string): Promise<{ unchanged: boolean }> {
    checkName(name);
    await this.putSource(version, source);
    // compare-and-set on the index: two nodes uploading at once both land
    for (let attempt = 0; ; attempt++) {
      const { entries, revision } = await this.index();
      const before = Object.hasOwn(entries, name) ? entries[name]?.version : undefined;
      if (before === version) return { unchanged: true };
      entries[name] = { name, version, uploadedAt: new Date(this.clock.now()).toISOString() };
      try {
        if (revision === null) await this.kv.create(INDEX_KEY, JSON.stringify(entries));
        else await this.kv.update(INDEX_KEY, JSON.stringify(entries), revision);
      } catch (e) {
        if (attempt >= 20)
          throw new ClusterError(
            "CLUSTER_BUSY",
            `cannot record the upload of ${name}: ${errorMessage(e)}`,
            "retry the upload",
          );
        continue;
      }
      // a master starting a run at this moment may have pruned this version before the index named it
      if (!(await this.kv.get(metaKey(version)))) await this.putSource(version, source);
      // the version the name pointed to before goes, unless another name or the running run still uses it
      if (before) await pruneUploads(this.kv, this.badIndex, this.log, { only: [before] });
      return { unchanged: false };
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
    checkName(name);
    checkVersion(version);
    const file = uploadedFile(this.cacheDir, name, version);
    // the cache is read again too: what is imported is what the run names
    if (existsSync(file) && sourceVersion(readFileSync(file, "utf8")) === version) return file;
    const source = await this.read(name, version);
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, source);
    renameSync(tmp, file);
    return file;
  }

  /** The source of a version from the bucket, refused unless it hashes to that version. */
  private async read(name: string, version: string): Promise<string> {
    const meta = await this.kv.get(metaKey(version));
    if (!meta)
      throw new ScenarioError(
        "SCENARIO_NOT_FOUND",
        `uploaded scenario ${name} version ${version} is not in the cluster's bucket`,
        "upload it again (PUT /scenarios/upload)",
      );
    let m: { chunks?: unknown; encoding?: unknown };
    try {
      m = JSON.parse(meta.value) as typeof m;
    } catch {
      m = {};
    }
    if (typeof m.chunks !== "number" || !Number.isSafeInteger(m.chunks) || m.chunks < 1 || m.chunks > 64)
      throw new ScenarioError(
        "SCENARIO_INVALID",
        `uploaded scenario ${name} version ${version} has a malformed record in the bucket`,
        "upload it again",
      );
    const parts: string[] = [];
    for (let i = 0; i < m.chunks; i++) {
      const c = await this.kv.get(srcKey(version, i));
      if (!c)
        throw new ScenarioError(
          "SCENARIO_NOT_FOUND",
          `uploaded scenario ${name} version ${version} misses part ${i} in the bucket`,
          "upload it again",
        );
      parts.push(c.value);
    }
    // base64 chunks are bytes, joined before decoding; older uploads stored text chunks
    const source =
      m.encoding === "base64"
        ? Buffer.concat(parts.map((p) => Buffer.from(p, "base64"))).toString("utf8")
        : parts.join("");
    if (sourceVersion(source) !== version)
      throw new ScenarioError(
        "SCENARIO_INVALID",
        `uploaded scenario ${name} version ${version} in the bucket does not hash to ${version}: it was changed or corrupted`,
        "upload it again; check who can write to the cluster's NATS",
      );
    return source;
  }
}

function checkName(name: string): void {
  if (!SCENARIO_NAME_RE.test(name))
    throw new ScenarioError(
      "SCENARIO_NOT_FOUND",
      `${JSON.stringify(name.slice(0, 80))} is not a scenario name`,
      "use letters, digits, '_' and '-' only",
    );
}

/** A version names a cache directory: 16 hex digits, and (when the source is at hand) its hash. */
function checkVersion(version: string, source?: string): void {
  if (!VERSION_RE.test(version))
    throw new ScenarioError(
      "SCENARIO_NOT_FOUND",
      `${JSON.stringify(version.slice(0, 80))} is not a scenario version`,
      "a version is 16 hex digits (the content hash of the source)",
    );
  if (source !== undefined && sourceVersion(source) !== version)
    throw new ScenarioError(
      "SCENARIO_INVALID",
      `the source does not hash to version ${version}`,
      "compute the version with sourceVersion(source)",
    );
}
