/**
 * The uploads' keys in the cluster's bucket and their housekeeping. Every upload of a changed source adds a version
 * (`uploads.src.<v>` and its chunks `uploads.src.<v>.<i>`); the bucket is bounded (discard policy "new"), so once
 * it is full every upload and every large run record fails. A version is therefore removed as soon as nothing can
 * load it: it is not the newest of any name in the index and not the version of the run in progress (whose nodes,
 * one joining later too, load it by version). The index itself is read as untrusted: one bad entry is skipped,
 * never allowed to fail every listing.
 */
import { errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import { SCENARIO_NAME_RE } from "../config/names.js";
import type { RateLimitedLog } from "../metrics/rate-limited-log.js";
import type { KvStore } from "./bus.js";
import { VERSION_RE } from "./protocol.js";
import type { StoredScenario } from "./scenario-store.js";

export const INDEX_KEY = "uploads.index";
export const srcKey = (version: string, i: number) => `uploads.src.${version}.${i}`;
export const metaKey = (version: string) => `uploads.src.${version}`;
/** The run record's key (cluster/subjects.ts `runKey`): read only for the version the running run uses. */
const RUN_KEY = "run";

/** The index as read: its valid entries, and its revision for compare-and-set (null: there is none yet). */
export interface UploadsIndex {
  entries: Record<string, StoredScenario>;
  revision: number | null;
}

/** Reads the index, skipping (and reporting through `warn`) what is not JSON or not a valid entry. */
export async function readUploadsIndex(kv: KvStore, warn: RateLimitedLog): Promise<UploadsIndex> {
  const e = await kv.get(INDEX_KEY);
  if (!e) return { entries: {}, revision: null };
  let raw: unknown;
  try {
    raw = JSON.parse(e.value);
  } catch (err) {
    warn.warnKind("json", { err: errorMessage(err), affects: "no uploaded scenario is listed until one is uploaded" });
    return { entries: {}, revision: e.revision };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    warn.warnKind("shape", { err: "the index is not an object", affects: "no uploaded scenario is listed" });
    return { entries: {}, revision: e.revision };
  }
  const entries: Record<string, StoredScenario> = {};
  for (const [name, v] of Object.entries(raw as Record<string, unknown>)) {
    const bad = badEntry(name, v);
    if (bad) warn.warnKind(`entry`, { err: bad, entry: name.slice(0, 80), affects: "that scenario is not listed" });
    else entries[name] = v as StoredScenario;
  }
  return { entries, revision: e.revision };
}

/** Why `v` is not the index entry of `name` (undefined: it is one). */
function badEntry(name: string, v: unknown): string | undefined {
  // the name rule keeps `__proto__` out: the index is a plain object
  if (!SCENARIO_NAME_RE.test(name)) return "the key is not a scenario name";
  if (typeof v !== "object" || v === null) return "the entry is not an object";
  const { name: n, version, uploadedAt } = v as Record<string, unknown>;
  if (n !== name) return "the entry names another scenario";
  if (typeof version !== "string" || !VERSION_RE.test(version)) return "the version is not 16 hex digits";
  if (typeof uploadedAt !== "string") return "uploadedAt is not a string";
  return undefined;
}

/**
 * The version the run in progress uses, none when no run is running; `unknown` when the run record cannot be read
 * (then nothing may be pruned: it might be the one a run needs).
 */
export async function runningVersion(kv: KvStore): Promise<string | undefined | "unknown"> {
  try {
    const e = await kv.get(RUN_KEY);
    if (!e) return undefined;
    const r = JSON.parse(e.value) as { state?: unknown; version?: unknown };
    if (r.state !== "running") return undefined;
    return typeof r.version === "string" ? r.version : undefined;
  } catch {
    return "unknown";
  }
}

/** What to keep besides the index's newest versions, and (optionally) the only versions to consider removing. */
export interface PruneOptions {
  /** The version of the run in progress (the master passes its new run's; otherwise read from the run record). */
  running?: string;
  /** Consider only these versions (an upload: the one its name pointed to before); all stored ones otherwise. */
  only?: string[];
}

/**
 * Removes the keys of every uploaded version that is neither the newest of some name in the index nor the running
 * run's; returns how many versions it removed. Never throws: it is only housekeeping.
 */
export async function pruneUploads(
  kv: KvStore,
  warn: RateLimitedLog,
  log: Logger,
  opts: PruneOptions = {},
): Promise<number> {
  let removed = 0;
  try {
    const running = opts.running ?? (await runningVersion(kv));
    if (running === "unknown") return 0;
    const keep = new Set(Object.values((await readUploadsIndex(kv, warn)).entries).map((e) => e.version));
    if (running) keep.add(running);
    const keys = await kv.keys("uploads.src.>");
    const byVersion = new Map<string, string[]>();
    for (const k of keys) {
      const v = k.split(".")[2] ?? "";
      byVersion.set(v, [...(byVersion.get(v) ?? []), k]);
    }
    for (const [v, vkeys] of byVersion) {
      if (keep.has(v) || (opts.only && !opts.only.includes(v))) continue;
      // the meta key first: a reader that still finds it and then misses a chunk says so ("misses part")
      const meta = metaKey(v);
      if (vkeys.includes(meta)) await kv.delete(meta);
      for (const k of vkeys) if (k !== meta) await kv.delete(k);
      removed++;
    }
  } catch (e) {
    log.warn({
      msg: "uploads_prune_failed",
      err: errorMessage(e),
      affects: "earlier uploaded versions stay in the bucket until the next upload or run",
    });
  }
  return removed;
}
