/**
 * Which detached node a command means: `--name N`, else `AMOC_NODE_NAME` (or the config file), else "amoc"; its
 * data directory from `AMOC_DATA_DIR` or the default. Also the small argument parser the detached-node commands share.
 */
import { loadNodeSettings } from "../../config/load.js";
import type { NodeSettings } from "../../config/schema.js";
import { UsageError } from "../../errors.js";
import { checkNodeName, dataDirFor, DEFAULT_NODE_NAME, type DataDir } from "../../node/data-dir.js";
import { NodeNotRunningError } from "../../node/daemon-errors.js";
import { cleanStale, probeNode } from "../../node/daemon-pid.js";

/** The node a command addresses. */
export interface Target {
  name: string;
  dir: DataDir;
  settings: NodeSettings;
  /** ` --name N` when the name was given on the command line (for hints), else "". */
  nameFlag: string;
}

/** Resolves the node name, its settings and its data directory. */
export function resolveTarget(name: string | undefined, env: NodeJS.ProcessEnv = process.env): Target {
  const settings = loadNodeSettings({
    env,
    defaults: { node_name: DEFAULT_NODE_NAME },
    overrides: name === undefined ? undefined : { node_name: checkNodeName(name) },
    overridesLabel: "option",
  });
  const n = settings.node_name;
  return {
    name: n,
    dir: dataDirFor(n, settings.data_dir, env),
    settings,
    nameFlag: name === undefined ? "" : ` --name ${n}`,
  };
}

/** The pid of the live node, or NODE_NOT_RUNNING (exit 3); a stale pid file or socket is removed on the way. */
export function requireRunning(t: Target): number {
  const p = probeNode(t.dir);
  if (p.state === "running") return p.pid;
  if (p.state === "stale") cleanStale(t.dir);
  throw new NodeNotRunningError(t.name, t.dir.dir, t.nameFlag);
}

/** Parsed flags: `--name N` style values, boolean switches, and the rest in order. */
export interface ParsedArgs {
  values: Record<string, string>;
  flags: Set<string>;
  positional: string[];
}

/** Parses `args` allowing the given value options (`--name N` or `--name=N`) and switches; anything else is USAGE. */
export function parseArgs(args: string[], valueOpts: string[], switches: string[], usage: string): ParsedArgs {
  const out: ParsedArgs = { values: {}, flags: new Set(), positional: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--") {
      out.positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith("--") || a === "-") {
      out.positional.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (valueOpts.includes(key)) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined || v === "") throw new UsageError(`--${key} needs a value`, usage);
      out.values[key] = v;
    } else if (switches.includes(key) && eq < 0) {
      out.flags.add(key);
    } else {
      throw new UsageError(`unknown option ${a}`, usage);
    }
  }
  return out;
}

/** A positive number of seconds from `--timeout`, in ms. */
export function timeoutMs(value: string | undefined, defaultS: number, usage: string): number {
  if (value === undefined) return defaultS * 1000;
  const s = Number(value);
  if (!Number.isFinite(s) || s <= 0)
    throw new UsageError(`--timeout must be a positive number of seconds, not '${value}'`, usage);
  return Math.round(s * 1000);
}
