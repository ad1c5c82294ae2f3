/**
 * How a run names its scenario between nodes: by name and version only, never by path. A prepare command (or a
 * run record in the bucket) that could name a path would make any NATS client able to run any file on every
 * worker; so a worker loads a built-in name from its own scenarios_dir, or an uploaded name by content hash, and a
 * master given a path (`amoc run --dist ./my.ts`) stores that file's content in the bucket and sends its version.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { ClusterError, ScenarioError } from "../errors.js";
import { sourceVersion } from "../source-version.js";
import { SCENARIO_NAME_RE, VERSION_RE } from "./protocol.js";

/** What a worker loads: a built-in name, or an uploaded version fetched (and re-hashed) by `file`. */
export async function scenarioToLoad(
  scenario: string,
  version: string | undefined,
  file: ((name: string, version: string) => Promise<string>) | undefined,
): Promise<string> {
  if (!SCENARIO_NAME_RE.test(scenario))
    throw new ClusterError(
      "CLUSTER_PROTOCOL",
      `the run names its scenario ${JSON.stringify(scenario.slice(0, 80))}, which is not a scenario name`,
      "a run names a built-in or uploaded scenario by name (and version), never by path",
    );
  // a mix (settings.mix) names its parts too: users/mix.ts parseMix accepts scenario names only, never paths
  if (version === undefined) return scenario;
  if (!VERSION_RE.test(version))
    throw new ClusterError(
      "CLUSTER_PROTOCOL",
      `the run names version ${JSON.stringify(version.slice(0, 80))} of ${scenario}, which is not a version`,
      "a version is 16 hex digits (the content hash of the source)",
    );
  if (!file)
    throw new ScenarioError(
      "SCENARIO_NOT_FOUND",
      `this node cannot load uploaded scenario ${scenario} version ${version}: it has no upload store`,
      "start the node in a cluster (bin/amoc worker)",
    );
  return file(scenario, version);
}

/** The name a scenario file goes by (as the loader names it): its file name without the extension. */
function scenarioNameOf(ref: string): string {
  return basename(ref).replace(/\.[cm]?[jt]s$/, "");
}

/** Where a master keeps the content of a scenario it was given by path (storeSource of the upload store). */
export interface SourceStore {
  putSource(version: string, source: string): Promise<void>;
}

/**
 * What the master's commands name for a run of `ref`: the name and version as they are for an uploaded
 * scenario (its version is known), a built-in name as it is; a path is stored by content and named by its
 * version, so every worker loads exactly this file's content.
 */
export async function commandScenario(
  ref: string,
  version: string | undefined,
  file: string,
  store: SourceStore | undefined,
): Promise<{ scenario: string; version: string | undefined }> {
  const name = scenarioNameOf(ref);
  if (!SCENARIO_NAME_RE.test(name))
    throw new ScenarioError(
      "SCENARIO_INVALID",
      `the scenario file name ${JSON.stringify(basename(ref))} cannot name a scenario in a cluster`,
      "name the file with letters, digits, '_' and '-' only (e.g. my_scenario.ts)",
    );
  if (version !== undefined || ref === name) return { scenario: name, version };
  if (!store)
    throw new ClusterError(
      "CLUSTER_UNAVAILABLE",
      `cannot send scenario file ${ref} to the workers: this master has no upload store`,
      "start it by name from scenarios_dir, or upload it first",
    );
  const source = readFileSync(file, "utf8");
  const v = sourceVersion(source);
  await store.putSource(v, source);
  return { scenario: name, version: v };
}
