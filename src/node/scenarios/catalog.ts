/**
 * The scenarios a node can run: built-in ones (its `scenarios_dir`) and uploaded ones (one upload store per node:
 * its data directory, or the cluster's bucket). Lists them, describes them, checks variables against them, takes
 * uploads, and resolves a name to the file and version a run loads, so a request never names a file or a version.
 */
import { readFile } from "node:fs/promises";
import type { ScenarioStore } from "../../cluster/scenario-store.js";
import { AmocError, ScenarioError, UsageError } from "../../errors.js";
import { loadScenario, resolveScenarioFile } from "../../scenario/loader.js";
import { checkUpload, checkUploadName, UPLOAD_NAME_RE } from "../../scenario/upload-check.js";
import { sourceVersion } from "../../source-version.js";
import type { ScenarioDetails, ScenarioSource, ScenarioSummary, UploadResult, VariableProblem } from "./types.js";
import { checkVariables } from "./check-variables.js";
import { builtinScenarios, scenarioDetails } from "./scenario-info.js";

/** The upload limits front ends check before a body reaches the catalog (names, size). */
export { UPLOAD_MAX_BYTES, UPLOAD_NAME_RE } from "../../scenario/upload-check.js";

/** What the catalog reads from the node. */
export interface CatalogDeps {
  scenariosDir: string;
  /** Scratch files of the upload check (`<data dir>/upload-check`). */
  workDir: string;
  /** The node's one upload store, opened on first use. */
  store: () => Promise<ScenarioStore>;
  /** api_uploads: false refuses every upload (API_UPLOADS_OFF). */
  uploads?: boolean;
}

/** A scenario name resolved for a run: the file every node loads it from, and its content hash. */
export interface ResolvedScenario {
  /** The name the run is known by. */
  name: string;
  /** A built-in name or a path (the loader finds it), or the local file of an uploaded version. */
  file: string;
  source: "builtin" | "uploaded" | "path";
  /** Content hash of the source (uploaded: the version the workers load by). */
  version?: string;
}

/** Built-in and uploaded scenarios of one node. */
export class ScenarioCatalog {
  constructor(private readonly d: CatalogDeps) {}

  get scenariosDir(): string {
    return this.d.scenariosDir;
  }

  private builtin(): ScenarioSummary[] {
    return builtinScenarios(this.d.scenariosDir);
  }

  private isBuiltin(name: string): boolean {
    return this.builtin().some((s) => s.name === name);
  }

  /** Built-in scenarios, then uploaded ones whose name no built-in has. */
  async list(): Promise<ScenarioSummary[]> {
    const builtin = this.builtin();
    const uploaded = (await (await this.d.store()).list()).map((u) => ({
      name: u.name,
      source: "uploaded" as const,
      version: u.version,
    }));
    return [...builtin, ...uploaded.filter((u) => !builtin.some((b) => b.name === u.name))];
  }

  /**
   * The newest uploaded version of `name` as a local file, or null (a built-in name, a path, a name never uploaded).
   * `optional`: a store that cannot be opened counts as no upload (a local run must not need the cluster).
   */
  private async uploaded(name: string, optional = false): Promise<{ file: string; version: string } | null> {
    if (!UPLOAD_NAME_RE.test(name) || this.isBuiltin(name)) return null;
    let store: ScenarioStore;
    try {
      store = await this.d.store();
    } catch (e) {
      if (optional) return null;
      throw e;
    }
    const u = await store.latest(name);
    return u ? { file: await store.file(name, u.version), version: u.version } : null;
  }

  /**
   * The file and version a run of `name` loads. An unknown name is SCENARIO_NOT_FOUND here, before anything is
   * recorded or started. `optionalStore`: see `uploaded`.
   */
  async resolve(name: string, optionalStore = false): Promise<ResolvedScenario> {
    if (typeof name !== "string" || name === "")
      throw new UsageError("start needs a scenario name", "e.g. {scenario: 'dummy', users: 10}");
    const u = await this.uploaded(name, optionalStore);
    if (u) return { name, file: u.file, source: "uploaded", version: u.version };
    // throws SCENARIO_NOT_FOUND naming what is available
    const file = resolveScenarioFile(name, this.d.scenariosDir);
    let version: string | undefined;
    try {
      version = sourceVersion(await readFile(file, "utf8"));
    } catch {
      version = undefined; // unreadable: the loader says why when the run loads it
    }
    return { name, file: name, source: this.isBuiltin(name) ? "builtin" : "path", version };
  }

  /** The file of `name` at `version` (an uploaded version a run uses, even after a newer upload), else as resolved. */
  async fileOf(name: string, version?: string): Promise<string> {
    if (version !== undefined && UPLOAD_NAME_RE.test(name) && !this.isBuiltin(name))
      return (await this.d.store()).file(name, version);
    return (await this.resolve(name)).file;
  }

  /** One scenario's declared variables, built-in or uploaded. */
  async info(name: string): Promise<ScenarioDetails> {
    const u = await this.uploaded(name);
    if (!u) return scenarioDetails(name, this.d.scenariosDir);
    return { ...(await scenarioDetails(u.file, this.d.scenariosDir)), name, source: "uploaded", version: u.version };
  }

  /** The default of each declared variable. */
  async defaults(name: string): Promise<Record<string, unknown>> {
    const info = await this.info(name);
    return Object.fromEntries(info.variables.map((v) => [v.name, v.default]));
  }

  /** A built-in or uploaded scenario's source text, by name only (never a path). */
  async source(name: string): Promise<ScenarioSource> {
    if (this.isBuiltin(name))
      return { name, source: "builtin", text: await readFile(resolveScenarioFile(name, this.d.scenariosDir), "utf8") };
    const u = await this.uploaded(name);
    if (!u) throw notFound(name);
    return { name, source: "uploaded", version: u.version, text: await readFile(u.file, "utf8") };
  }

  /** The problems of `settings` against a built-in or uploaded scenario's declarations (never a path). */
  async check(name: string, settings: Record<string, unknown>): Promise<VariableProblem[]> {
    const ref = this.isBuiltin(name) ? name : (await this.uploaded(name))?.file;
    if (!ref) throw notFound(name);
    const s = await loadScenario(ref, this.d.scenariosDir);
    return checkVariables(s.variables, settings ?? {});
  }

  /** Checks an upload in a child process and stores it under its content hash. */
  async upload(name: string, source: string): Promise<UploadResult> {
    if (this.d.uploads === false)
      throw new AmocError("API_UPLOADS_OFF", "this node accepts no uploads", "set AMOC_API_UPLOADS=true to allow them");
    checkUploadName(name);
    if (this.isBuiltin(name)) throw new UsageError(`'${name}' is a built-in scenario`, "upload under another name");
    const version = await checkUpload(name, source, this.d.workDir);
    const { unchanged } = await (await this.d.store()).put(name, version, source);
    return { name, version, unchanged };
  }
}

function notFound(name: string): ScenarioError {
  return new ScenarioError("SCENARIO_NOT_FOUND", `no scenario '${name}'`, "GET /scenarios lists them");
}
