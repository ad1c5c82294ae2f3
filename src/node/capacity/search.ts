/**
 * The capacity search (`bin/amoc capacity SCENARIO`): raise the users step by step over the Node API, hold each
 * step, judge every SLO on that step's window (merged interval histograms, results/window.ts), stop at the first
 * failing step, and say the capacity (the largest passing step), which SLO broke first and by how much, and the
 * generator's health per step (a step limited by the generator is never the server's capacity).
 */
import type { Clock } from "../../clock.js";
import { UsageError } from "../../errors.js";
import { RunTotals, mergeIntervals, type MergedInterval } from "../../results/merge.js";
import type { EncodedInterval } from "../../results/interval.js";
import type { Threshold, ThresholdResult } from "../../results/thresholds.js";
import { judgeOn } from "../../results/window.js";
import type { NodeApi, RunEnd } from "../node-api.js";
import { generatorHealth, type GeneratorHealth, type HealthSample } from "./health.js";

export interface CapacityOptions {
  scenario: string;
  start: number;
  step: number;
  holdMs: number;
  max: number;
  slos: Threshold[];
  settings?: Record<string, unknown>;
  /** The interval length of the run's series (ms): a step's window starts at the first whole interval after its add. */
  intervalMs: number;
  /** Samples the generator process (local runs: this one), once per interval of each hold. */
  sampleHealth?: () => HealthSample;
}

export interface CapacityStep {
  users: number;
  /** The step's window, epoch ms. */
  from: number;
  to: number;
  slos: ThresholdResult[];
  ok: boolean;
  health: GeneratorHealth;
}

export interface CapacityResult {
  scenario: string;
  /** The largest passing step's users (0: the first step failed). */
  capacity: number;
  steps: CapacityStep[];
  /** The first failing SLO of the first failing step and by how much (null: every step passed up to --max). */
  broke: { slo: string; actual: number | null; limit: number; message: string } | null;
  /** Why the failing step measured the generator (null: it measured the server). */
  generatorLimited: string | null;
  run_id: string;
  run?: RunEnd;
}

export function checkCapacityOptions(o: CapacityOptions): void {
  const bad: string[] = [];
  if (!(o.start > 0)) bad.push("--start must be a positive number of users");
  if (!(o.step > 0)) bad.push("--step must be a positive number of users");
  if (!(o.max >= o.start)) bad.push("--max must be at least --start");
  if (!(o.holdMs >= 2 * o.intervalMs))
    bad.push(`--hold must be at least two intervals (${(2 * o.intervalMs) / 1000} s)`);
  if (!o.slos.length) bad.push("give at least one --slo, e.g. --slo 'xmpp.connection.p99<1000'");
  if (bad.length)
    throw new UsageError(
      bad.join("\n"),
      "e.g. amoc capacity login_storm --start 100 --step 100 --hold 10s --slo 'xmpp.connection.p99<1000'",
    );
}

const sleep = (clock: Clock, ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));

/** Runs the search; `onStep` hears each judged step. The users are stopped at the end, whatever happened. */
export async function capacitySearch(
  api: NodeApi,
  clock: Clock,
  o: CapacityOptions,
  onStep?: (s: CapacityStep) => void,
): Promise<CapacityResult> {
  checkCapacityOptions(o);
  const byTime = new Map<number, EncodedInterval[]>();
  const unwatch = api.watch((e) => {
    if (e.type !== "interval") return;
    const l = byTime.get(e.interval.t);
    if (l) l.push(e.interval);
    else byTime.set(e.interval.t, [e.interval]);
  });
  const windowOf = (from: number, to: number): MergedInterval[] =>
    [...byTime.entries()]
      .filter(([t, parts]) => t >= from && t + (parts[0]?.ms ?? o.intervalMs) <= to)
      .sort((a, b) => a[0] - b[0])
      .map(([, parts]) => mergeIntervals(parts));
  /** A health sample, or none when sampling fails (the process out of fds cannot even read its RSS). */
  const sample = (): HealthSample | undefined => {
    try {
      return o.sampleHealth?.();
    } catch {
      return undefined;
    }
  };
  const steps: CapacityStep[] = [];
  let runId = "";
  let run: RunEnd | undefined;
  try {
    let users = 0;
    for (let level = o.start; level <= o.max; level += o.step) {
      if (users === 0) {
        const started = await api.start({ scenario: o.scenario, users: level, settings: o.settings });
        runId = started.run_id;
      } else await api.add(level - users);
      users = level;
      // the window: from the interval the step's users were added in (their logins are part of the step) to the
      // end of the hold
      const from = Math.floor(clock.now() / o.intervalMs) * o.intervalMs;
      const samples: HealthSample[] = [];
      // a first sample closes the sampler's window before the hold (it may cover start-up's compile)
      sample();
      for (let held = 0; held < o.holdMs; held += o.intervalMs) {
        await sleep(clock, Math.min(o.intervalMs, o.holdMs - held));
        const h = sample();
        if (h) samples.push(h);
      }
      // the last interval of the hold arrives a little after it ends
      const to = Math.floor(clock.now() / o.intervalMs) * o.intervalMs;
      await sleep(clock, Math.min(o.intervalMs, 1500));
      const window = windowOf(from, to);
      const totals = new RunTotals();
      for (const m of window) totals.add(m);
      const slos = o.slos.map((t) => judgeOn(t, totals));
      const s: CapacityStep = {
        users: level,
        from,
        to,
        slos,
        ok: slos.every((r) => r.ok),
        health: generatorHealth(window, samples),
      };
      steps.push(s);
      onStep?.(s);
      // a step limited by the generator measured the generator: going higher would measure it again
      if (!s.ok || s.health.limited) break;
    }
  } finally {
    unwatch();
    try {
      run = (await api.stop()).run;
    } catch {
      // the search's result stands; the stop's failure is the run's own record
    }
  }
  const failed = steps.find((s) => !s.ok || s.health.limited);
  const passed = steps.filter((s) => s.ok && !s.health.limited);
  const first = failed?.slos.find((r) => !r.ok);
  return {
    scenario: o.scenario,
    capacity: passed.at(-1)?.users ?? 0,
    steps,
    broke: first ? { slo: first.expr, actual: first.actual, limit: first.value, message: first.message } : null,
    generatorLimited: failed?.health.limited ?? null,
    run_id: runId,
    ...(run ? { run } : {}),
  };
}

/** The search's result in words: capacity, what broke and by how much, and the generator's health per step. */
export function formatCapacity(r: CapacityResult): string {
  const lines = r.steps.map(
    (s) =>
      `step ${String(s.users).padStart(7)} users  ${s.ok ? "ok      " : "FAILED  "}` +
      s.slos.map((x) => `${x.expr}: ${x.actual ?? "-"}`).join("  ") +
      `  | generator: lag p99 ${s.health.lagP99MaxMs ?? "-"} ms, CPU ${s.health.cpuMaxPct ?? "-"} %${s.health.limited ? `, LIMITED: ${s.health.limited}` : ""}`,
  );
  if (r.generatorLimited)
    lines.push(
      `capacity: not measured: the failing step was limited by the generator (${r.generatorLimited}); the server held at least ${r.capacity} users`,
    );
  else lines.push(`capacity: ${r.capacity} users${r.broke ? "" : " (every step passed up to --max)"}`);
  if (r.broke) {
    const by =
      r.broke.actual !== null && r.broke.limit
        ? ` (${Math.round((r.broke.actual / r.broke.limit) * 100)} % of the limit)`
        : "";
    lines.push(`broke first: ${r.broke.slo}: ${r.broke.message}${by}`);
  }
  lines.push(`run ${r.run_id}`);
  return lines.join("\n");
}
