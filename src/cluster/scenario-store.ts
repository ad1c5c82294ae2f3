/**
 * Where uploaded scenario sources live, by content hash: a JetStream key-value bucket in a cluster
 * (nats-scenario-store.ts), this node's data directory otherwise (scenario/upload-dir-store.ts). Every store hands
 * out a local file to import, so a node loads exactly the version a run names.
 */
import { join, resolve } from "node:path";

/** One uploaded scenario's newest version. */
export interface StoredScenario {
  name: string;
  version: string;
  /** When that version was uploaded (ISO 8601). */
  uploadedAt: string;
}

/** The operations on uploaded sources. */
export interface ScenarioStore {
  /** Stores a version and makes it the newest of `name`; `unchanged` when it already was. */
  put(name: string, version: string, source: string): Promise<{ unchanged: boolean }>;
  /** The newest version of every uploaded name, sorted by name. */
  list(): Promise<StoredScenario[]>;
  /** The newest version of `name`, or null when it was never uploaded. */
  latest(name: string): Promise<StoredScenario | null>;
  /** A local file holding `name` at `version` (fetched and written under the node's data directory if needed). */
  file(name: string, version: string): Promise<string>;
}

/** The project root (where `bin/amoc` lives). */
const PROJECT_ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * The data directory of a node: `data_dir`, else `<AMOC_RUN_DIR or <project>/.run>/amoc/<node_name>` (the rule of
 * src/node/data-dir.ts, which cluster/ may not import).
 */
export function nodeDataDir(s: { data_dir: string; node_name: string }, env: NodeJS.ProcessEnv = process.env): string {
  if (s.data_dir) return resolve(s.data_dir);
  return join(env.AMOC_RUN_DIR ? resolve(env.AMOC_RUN_DIR) : join(PROJECT_ROOT, ".run"), "amoc", s.node_name);
}

/** Where a node keeps uploaded sources: `<data dir>/uploads/<version>/<name>.ts`. */
export function uploadsDir(s: { data_dir: string; node_name: string }): string {
  return resolve(nodeDataDir(s), "uploads");
}

/** The local file of one version of an uploaded scenario (named after the scenario, so the loader names it right). */
export function uploadedFile(dir: string, name: string, version: string): string {
  return join(dir, version, `${name}.ts`);
}
