/** `amoc run`: one non-interactive run that ends when every user is done (or `--duration` passed), then a summary. */
import { parseArgs } from "node:util";
import { UsageError } from "../errors.js";
import type { AmocNode } from "../main.js";
import { SummaryCollector } from "../metrics/summary.js";
import { nowMs } from "../controller/controller.js";
import { formatSummary, type RunSummary } from "./format.js";

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
}

export const RUN_USAGE = `usage: amoc run SCENARIO --users N [--from ID] [--interarrival MS] [--repeat N|infinity]
                [--repeat-interval MS] [--duration S] [--set name=value ...] [--json] [--allow-crashes]
                [--dist [--workers K]]`;

function positiveInt(name: string, v: string | undefined, min = 1): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${v}'`, RUN_USAGE);
  return Number(v);
}

/** Parses argv (after `run`); throws UsageError with the usage line. */
export function parseRunArgs(argv: string[]): RunOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
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
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message, RUN_USAGE);
  }
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(positionals.length ? `one scenario expected, got ${positionals.join(" ")}` : "missing SCENARIO", RUN_USAGE);
  const users = positiveInt("users", v.users);
  if (users === undefined) throw new UsageError("missing --users N", RUN_USAGE);
  const settings: Record<string, unknown> = {};
  for (const pair of v.set ?? []) {
    const i = pair.indexOf("=");
    if (i <= 0) throw new UsageError(`--set expects name=value, got '${pair}'`, RUN_USAGE);
    settings[pair.slice(0, i)] = pair.slice(i + 1);
  }
  // flags win over --set of the same key
  if (v.interarrival !== undefined) settings.interarrival = v.interarrival;
  if (v.repeat !== undefined) settings.repeat_num = v.repeat;
  if (v["repeat-interval"] !== undefined) settings.repeat_interval = v["repeat-interval"];
  let durationS: number | undefined;
  if (v.duration !== undefined) {
    durationS = Number(v.duration);
    if (!Number.isFinite(durationS) || durationS <= 0) throw new UsageError(`--duration must be seconds > 0, got '${v.duration}'`, RUN_USAGE);
  }
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
  };
}

/** Runs locally; returns the summary and the exit code (0 ok, 1 crashed users). */
export async function runLocal(node: AmocNode, o: RunOptions, progress: NodeJS.WriteStream | undefined): Promise<{ summary: RunSummary; exitCode: number }> {
  const collector = new SummaryCollector(node.telemetry);
  const c = node.controller;
  const t0 = nowMs();
  await c.do(o.scenario, o.from, o.from + o.users - 1, o.settings);
  const stopProgress = progress ? showProgress(progress, () => c.status().users, o.users) : () => {};
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    wake();
  };
  let wake: () => void = () => {};
  const interruptedP = new Promise<void>((r) => (wake = r));
  process.once("SIGINT", onSigint);
  let timer: NodeJS.Timeout | undefined;
  const waits: Array<Promise<void>> = [c.whenNoUsers(), interruptedP];
  if (o.durationS !== undefined) waits.push(new Promise<void>((r) => (timer = setTimeout(r, (o.durationS as number) * 1000))));
  await Promise.race(waits);
  if (timer) clearTimeout(timer);
  process.removeListener("SIGINT", onSigint);
  const settings = c.status().settings;
  const final = await c.stop();
  stopProgress();
  const { pending: _pending, ...users } = final.users;
  const summary: RunSummary = {
    scenario: final.scenario ?? o.scenario,
    users,
    duration_ms: Math.round(nowMs() - t0),
    settings,
    errors: final.errors,
    metrics: collector.snapshot(),
  };
  collector.close();
  const exitCode = interrupted ? 130 : users.crashed > 0 && !o.allowCrashes ? 1 : 0;
  return { summary, exitCode };
}

/** A live progress line on a TTY: running / started / finished / crashed, and the start rate. */
function showProgress(out: NodeJS.WriteStream, counts: () => { running: number; started: number; finished: number; crashed: number }, total: number): () => void {
  let lastStarted = 0;
  let lastT = nowMs();
  const timer = setInterval(() => {
    const u = counts();
    const t = nowMs();
    const rate = ((u.started - lastStarted) * 1000) / Math.max(1, t - lastT);
    lastStarted = u.started;
    lastT = t;
    out.write(`\r\x1b[Krunning ${u.running}  started ${u.started}/${total}  finished ${u.finished}  crashed ${u.crashed}  ${rate.toFixed(0)} users/s`);
  }, 500);
  timer.unref();
  return () => {
    clearInterval(timer);
    out.write("\r\x1b[K");
  };
}

export { formatSummary };
