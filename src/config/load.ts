/** Loads node settings with the precedence run settings > env > file > default, and validates strictly. */
import { existsSync, readFileSync } from "node:fs";
import convict from "convict";
import { ConfigError, type ConfigProblem } from "../errors.js";
import { registerFormats } from "./formats.js";
import { SCHEMA, crossKeyProblems, envName, isSettingKey, type NodeSettings, type SettingKey } from "./schema.js";
import type { SettingSpec } from "./setting.js";

/** Where the settings come from. */
export interface LoadSources {
  env?: NodeJS.ProcessEnv;
  /** A JSON file; defaults to `AMOC_CONFIG_FILE` or `config/default.json` when it exists. */
  file?: string;
  /** Per-run or command-line overrides, highest precedence. */
  overrides?: Record<string, unknown>;
  /** How overrides are named in errors, e.g. "--set" or "settings". */
  overridesLabel?: string;
  /** Defaults of a command (e.g. `amoc run` logs at warn), below every other source. */
  defaults?: Record<string, unknown>;
}

/** Reads `AMOC_<UPPER>` or, as the original amoc did, `AMOC_<lower>`; upper case wins. */
export function envValue(env: NodeJS.ProcessEnv, key: string): { name: string; value: string } | undefined {
  for (const name of [envName(key), `AMOC_${key}`]) {
    const v = env[name];
    if (v !== undefined && v !== "") return { name, value: v };
  }
  return undefined;
}

/** The config file in effect: `AMOC_CONFIG_FILE`, else `config/default.json` if present. */
export function configFilePath(env: NodeJS.ProcessEnv, explicit?: string): string | undefined {
  const p = explicit ?? env.AMOC_CONFIG_FILE;
  if (p) return p;
  return existsSync("config/default.json") ? "config/default.json" : undefined;
}

/** Reads the JSON config file; its `variables` section holds scenario variables. */
export function readConfigFile(path: string): {
  settings: Record<string, unknown>;
  variables: Record<string, unknown>;
  thresholds?: unknown;
} {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new ConfigError([
      { key: "AMOC_CONFIG_FILE", source: path, message: `cannot read JSON: ${(e as Error).message}` },
    ]);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError([{ key: "AMOC_CONFIG_FILE", source: path, message: "must hold a JSON object" }]);
  }
  // `thresholds`: the run's pass/fail targets (src/results/thresholds.ts), checked by the front ends that record runs
  const { variables, thresholds, ...settings } = raw as Record<string, unknown>;
  return { settings, variables: (variables as Record<string, unknown> | undefined) ?? {}, thresholds };
}

/** Loads and validates the node settings, reporting every problem at once with the variable that caused it. */
export function loadNodeSettings(src: LoadSources = {}): NodeSettings {
  registerFormats();
  const env = src.env ?? process.env;
  const origin = new Map<string, string>();
  const problems: ConfigProblem[] = [];

  const conf = convict(SCHEMA as unknown as convict.Schema<NodeSettings>, { env: {}, args: [] });

  for (const [k, v] of Object.entries(src.defaults ?? {}))
    if (isSettingKey(k)) setChecked(conf, k, v, `default of ${k}`, origin, problems);
  const file = configFilePath(env, src.file);
  if (file) {
    if (!existsSync(file)) {
      problems.push({ key: "AMOC_CONFIG_FILE", source: "AMOC_CONFIG_FILE", message: `file ${file} does not exist` });
    } else {
      const { settings } = readConfigFile(file);
      for (const [k, v] of Object.entries(settings)) {
        if (!isSettingKey(k)) {
          problems.push({ key: k, source: `${file}: ${k}`, message: "is not a setting (bin/amoc help lists them)" });
          continue;
        }
        setChecked(conf, k, v, `${file}: ${k}`, origin, problems);
      }
    }
  }
  for (const key of Object.keys(SCHEMA) as SettingKey[]) {
    const ev = envValue(env, key);
    if (ev) setChecked(conf, key, ev.value, ev.name, origin, problems);
  }
  const label = src.overridesLabel ?? "settings";
  for (const [k, v] of Object.entries(src.overrides ?? {})) {
    if (!isSettingKey(k)) {
      problems.push({ key: k, source: `${label}.${k}`, message: "is not a setting" });
      continue;
    }
    setChecked(conf, k, v, `${label}.${k}`, origin, problems);
  }

  try {
    conf.validate({ allowed: "strict" });
  } catch (e) {
    for (const line of String((e as Error).message).split("\n")) {
      const m = /^([\w.]+): (.*)$/.exec(line);
      const key = m?.[1] ?? "?";
      const source = origin.get(key) ?? `default of ${key}`;
      problems.push({ key, source, message: (m?.[2] ?? line).replace(/^must/, "must") });
    }
  }
  if (problems.length) throw new ConfigError(problems);
  const settings = conf.getProperties();
  for (const p of crossKeyProblems(settings))
    problems.push({ key: p.key, source: origin.get(p.key) ?? `default of ${p.key}`, message: p.message });
  if (problems.length) throw new ConfigError(problems);
  return settings;
}

function setChecked(
  conf: convict.Config<NodeSettings>,
  key: SettingKey,
  value: unknown,
  source: string,
  origin: Map<string, string>,
  problems: ConfigProblem[],
): void {
  origin.set(key, source);
  try {
    conf.set(key, value as never);
  } catch (e) {
    problems.push({ key, source, message: (e as Error).message });
  }
}

/** The docs of every setting, for `bin/amoc help`. */
export function describeSettings(): string {
  return Object.entries(SCHEMA as Record<string, SettingSpec>)
    .map(
      ([k, s]) =>
        `  ${envName(k).padEnd(30)} ${s.doc} (default ${s.defaultText ?? (s.sensitive ? "''" : s.default === Infinity ? "infinity" : JSON.stringify(s.default))})`,
    )
    .join("\n");
}
