/** `amoc run`'s options: one non-interactive run that ends when every user is done (or `--duration` passed). */
import { parseArgs } from "node:util";
import { coerceJson, parseStages } from "../../config/shapes.js";
import { MAX_TIMER_MS } from "../../config/formats.js";
import { UsageError } from "../../errors.js";

/** Parsed `amoc run` options. */
export interface RunOptions {
  scenario: string;
  users: number;
  from: number;
  durationS: number | undefined;
  json: boolean;
  allowCrashes: boolean;
  settings: Record<string, unknown>;
  dist: boolean;
  workers: number;
  /** `--log json`: JSON log lines on stderr instead of the log file (the log_format setting). */
  logFormat?: string;
  /** repeat_num was given nowhere and the run has no end of its own: `defaultRepeat` made it 1. */
  repeatDefaulted?: boolean;
}

/**
 * One-shot `amoc run` without --duration or a load shape: each user runs start() once, as a k6 run without
 * --duration does, unless repeat_num is given (--repeat, --set, AMOC_REPEAT_NUM, the config file). With an end of
 * its own (--duration, stages) users repeat until it, as the repeat_num default (infinity) says. A plain run that
 * repeats forever looked stuck to people used to k6 and Locust, who end a run with a duration.
 */
export function defaultRepeat(o: RunOptions, givenElsewhere: boolean): RunOptions {
  if (o.durationS !== undefined || givenElsewhere || o.settings.repeat_num !== undefined) return o;
  return { ...o, settings: { ...o.settings, repeat_num: 1 }, repeatDefaulted: true };
}

export const RUN_USAGE = `usage: amoc run SCENARIO --users N [--from ID] [--interarrival MS] [--repeat N|infinity]
                [--repeat-interval MS] [--duration S] [--set name=value ...] [--json] [--allow-crashes]
                [--dist [--workers K]] [--stages JSON | --arrival-rate JSON [--poisson]] [--mix JSON] [--log json]
  --stages '[{"duration":"60s","target":1000},{"duration":"30s","target":0}]' (closed model: users; replaces --users)
  --arrival-rate '[{"duration":"1m","target":50}]' (open model: new users per second; replaces --users)
  --mix '{"one_to_one":3,"muc":1}' (several scenarios by weight; SCENARIO names the run)
  --log json  JSON log lines on stderr (AMOC_LOG_FORMAT=json); by default they go to AMOC_LOG_FILE or .run/log/amoc-run.log
  --repeat defaults to 1 without --duration (each user runs start() once, as in k6), else to AMOC_REPEAT_NUM
    (infinity: each user repeats until --duration, Ctrl+C or SIGTERM)`;

function positiveInt(name: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min)
    throw new UsageError(`--${name} must be an integer >= ${min}, got '${v}'`, RUN_USAGE);
  return Number(v);
}

/** Options that take a value: a negative number after them is their value, not an unknown flag. */
const VALUE_FLAGS = new Set([
  "--users",
  "-n",
  "--from",
  "--interarrival",
  "--repeat",
  "--repeat-interval",
  "--duration",
  "--workers",
]);

/** `--users -5` as `--users=-5`, so the value is checked by our rules instead of being refused as ambiguous. */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const next = argv[i + 1];
    if (VALUE_FLAGS.has(a) && next !== undefined && /^-\d/.test(next)) {
      out.push(a.startsWith("--") ? `${a}=${next}` : `${a}${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** A value passed on to the settings (which check its format), refused here when negative. */
function notNegative(name: string, v: string, expected: string): string {
  if (v.trim().startsWith("-")) throw new UsageError(`--${name} must be ${expected}, got '${v}'`, RUN_USAGE);
  return v;
}

/** Parses argv (after `run`); throws UsageError with the usage line. */
export function parseRunArgs(argv: string[]): RunOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv),
      allowPositionals: true,
      options: {
        users: { type: "string", short: "n" },
        from: { type: "string" },
        interarrival: { type: "string" },
        repeat: { type: "string" },
        "repeat-interval": { type: "string" },
        duration: { type: "string" },
        set: { type: "string", multiple: true },
        json: { type: "boolean" },
        "allow-crashes": { type: "boolean" },
        dist: { type: "boolean" },
        workers: { type: "string" },
        stages: { type: "string" },
        "arrival-rate": { type: "string" },
        poisson: { type: "boolean" },
        mix: { type: "string" },
        log: { type: "string" },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message, RUN_USAGE);
  }
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1)
    throw new UsageError(
      positionals.length ? `one scenario expected, got ${positionals.join(" ")}` : "missing SCENARIO",
      RUN_USAGE,
    );
  const shaped = v.stages !== undefined || v["arrival-rate"] !== undefined;
  // with a load shape the stages say how many users start: --users is not needed
  const users = positiveInt("users", v.users) ?? (shaped ? 1 : undefined);
  if (users === undefined) throw new UsageError("missing --users N", RUN_USAGE);
  const settings: Record<string, unknown> = {};
  for (const pair of v.set ?? []) {
    const i = pair.indexOf("=");
    if (i <= 0) throw new UsageError(`--set expects name=value, got '${pair}'`, RUN_USAGE);
    settings[pair.slice(0, i)] = pair.slice(i + 1);
  }
  // flags win over --set of the same key
  if (v.interarrival !== undefined)
    settings.interarrival = notNegative("interarrival", v.interarrival, "a duration >= 0 (e.g. 50, 250ms, 2s)");
  if (v.repeat !== undefined) settings.repeat_num = notNegative("repeat", v.repeat, "a count >= 1 or 'infinity'");
  if (v["repeat-interval"] !== undefined)
    settings.repeat_interval = notNegative("repeat-interval", v["repeat-interval"], "a duration >= 0 (e.g. 1000, 2s)");
  const shapeFlag = (name: string, raw: string | undefined, key: string): unknown[] => {
    if (raw === undefined) return [];
    const val = coerceJson(raw);
    try {
      parseStages(val);
    } catch (e) {
      throw new UsageError(`--${name}: ${(e as Error).message}`, RUN_USAGE);
    }
    settings[key] = val;
    return val as unknown[];
  };
  const stageList = [
    ...shapeFlag("stages", v.stages, "stages"),
    ...shapeFlag("arrival-rate", v["arrival-rate"], "arrival_rate"),
  ];
  if (v.poisson === true) settings.arrival_process = "poisson";
  if (v.mix !== undefined) settings.mix = coerceJson(v.mix);
  let durationS: number | undefined;
  if (v.duration !== undefined) {
    durationS = Number(v.duration);
    if (!Number.isFinite(durationS) || durationS <= 0)
      throw new UsageError(`--duration must be seconds > 0, got '${v.duration}'`, RUN_USAGE);
    // the same ceiling as every duration setting: past it Node's timers misfire, and no run is meant to last a month
    if (durationS * 1000 > MAX_TIMER_MS)
      throw new UsageError(
        `--duration must be at most ${Math.floor(MAX_TIMER_MS / 1000)} s (about 24 days), got '${v.duration}': timers cannot wait longer`,
        RUN_USAGE,
      );
  } else if (stageList.length > 0) durationS = parseStages(stageList).reduce((s, st) => s + st.durationMs, 0) / 1000; // a shaped run ends with its last stage
  return {
    scenario: positionals[0] as string,
    users,
    from: positiveInt("from", v.from) ?? 1,
    durationS,
    json: v.json === true,
    allowCrashes: v["allow-crashes"] === true,
    settings,
    dist: v.dist === true,
    workers: positiveInt("workers", v.workers) ?? 1,
    logFormat: v.log,
  };
}
