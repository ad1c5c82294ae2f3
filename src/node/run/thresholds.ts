/** The thresholds of a run: the config file's (`"thresholds": [...]`) first, then the start request's. */
import { configFilePath, readConfigFile } from "../../config/load.js";
import { ConfigError, UsageError } from "../../errors.js";
import { parseThresholds, type Threshold } from "../../results/thresholds.js";

/** The thresholds of the config file (AMOC_CONFIG_FILE's `"thresholds": ["xmpp.message_ttd.p99<50", ...]`). */
export function configThresholds(env: NodeJS.ProcessEnv): Threshold[] {
  const file = configFilePath(env);
  if (!file) return [];
  const raw = readConfigFile(file).thresholds;
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.some((x) => typeof x !== "string"))
    throw new ConfigError([
      {
        key: "thresholds",
        source: `${file}: thresholds`,
        message: "must be an array of strings like 'xmpp.message_ttd.p99<50'",
      },
    ]);
  return parseThresholds(raw as string[]);
}

/** A start's thresholds, parsed before anything starts (a bad one is a usage error that changes nothing). */
export function runThresholds(file: Threshold[], given: unknown, abortOnFail: boolean | undefined): Threshold[] {
  if (given !== undefined && (!Array.isArray(given) || given.some((x) => typeof x !== "string")))
    throw new UsageError(
      "thresholds must be a list of strings",
      "e.g. ['xmpp.message_ttd.p99<50', 'users.crashed==0']",
    );
  const all = [...file, ...parseThresholds((given as string[] | undefined) ?? [])];
  if (abortOnFail === true && all.length === 0)
    throw new UsageError("abort on fail needs at least one threshold", "add a threshold, e.g. 'users.crashed==0'");
  return all;
}
