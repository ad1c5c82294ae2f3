/**
 * The capacity search (`bin/amoc capacity SCENARIO`): raise the load step by step over the Node API (concurrent
 * users, or with `by: rate` the users started per second), hold each step, judge every SLO on that step's window
 * (merged interval histograms, results/window.ts), stop at the first failing step, optionally bisect between the last
 * good and the first bad step (`refine`), and say the capacity (the largest passing level), which SLO broke first and
 * by how much, and the generator's health per step (a step limited by the generator is never the server's capacity).
 */
import type { Clock } from "../../clock.js";
import { UsageError } from "../../errors.js";
import type { CapacityBy, CapacityRecord, CapacityStep } from "../../results/capacity-record.js";
import { RunTotals, mergeIntervals, type MergedInterval } from "../../results/merge.js";
import type { EncodedInterval } from "../../results/interval.js";
import type { Threshold } from "../../results/thresholds.js";
import { judgeOn } from "../../results/window.js";
import { sutMaxima, sutTable, type SutSample } from "../../results/sut-series.js";
import type { NodeApi, RunEnd } from "../node-api.js";
import { generatorHealth, type HealthSample } from "./health.js";
import { searchOutcome } from "./outcome.js";

export type { CapacityStep } from "../../results/capacity-record.js";

/** What the search drives: any Node API (local, dist, or a test's fake). */
export type SearchApi = Pick<NodeApi, "start" | "add" | "remove" | "stop" | "watch">;

export interface CapacityOptions {
  scenario: string;
  start: number;
  step: number;
  holdMs: number;
  max: number;
  slos: Threshold[];
  settings?: Record<string, unknown>;
  /** Steps over concurrent users (default) or over the arrival rate (users started per second). */
  by?: CapacityBy;
  /** Bisect between the last good and the first bad step until they are at most this far apart (0: off). */
  refine?: number;
  /** The interval length of the run's series (ms): a step's window starts at the first whole interval after its add. */
  intervalMs: number;
  /** Samples the generator process (local runs: this one), once per interval of each hold. */
  sampleHealth?: () => HealthSample;
  /** Asked once per interval: true ends the search now (the step under way is not judged). */
  stopped?: () => boolean;
  /** Told the run's id once the first step started. */
  onStarted?: (runId: string) => void;
}

export interface CapacityResult extends CapacityRecord {
  scenario: string;
  run_id: string;
  /** The search was stopped before its end (its capacity is a lower bound). */
  stopped?: boolean;
  run?: RunEnd;
}

export function checkCapacityOptions(o: CapacityOptions): void {
  const bad: string[] = [];
  if (!(Number.isInteger(o.start) && o.start > 0)) bad.push("--start must be a positive whole number");
  if (!(Number.isInteger(o.step) && o.step > 0)) bad.push("--step must be a positive whole number");
  if (!(o.max >= o.start)) bad.push("--max must be at least --start");
  if (!(o.holdMs >= 2 * o.intervalMs))
    bad.push(`--hold must be at least two intervals (${(2 * o.intervalMs) / 1000} s)`);
  if (!o.slos.length) bad.push("give at least one --slo, e.g. --slo 'xmpp.connection.p99<1000'");
  if (o.by !== undefined && o.by !== "users" && o.by !== "rate") bad.push(`--by must be users or rate, not '${o.by}'`);
  if (o.refine !== undefined && !(Number.isInteger(o.refine) && o.refine >= 0))
    bad.push("--refine must be a whole number (the resolution the bisection stops at)");
  else if (o.refine && o.refine >= o.step) bad.push("--refine must be smaller than --step (it bisects within a step)");
  if (bad.length)
    throw new UsageError(
      bad.join("\n"),
      "e.g. amoc capacity login_storm --start 100 --step 100 --hold 10s --slo 'xmpp.connection.p99<1000'",
    );
}

const sleep = (clock: Clock, ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));

/** Runs the search; `onStep` hears each judged step. The users are stopped at the end, whatever happened. */
export async function capacitySearch(
  api: SearchApi,
  clock: Clock,
  o: CapacityOptions,
  onStep?: (s: CapacityStep) => void,
): Promise<CapacityResult> {
  checkCapacityOptions(o);
  const I = o.intervalMs;
  const byRate = o.by === "rate";
  const byTime = new Map<number, EncodedInterval[]>();
  /** The server under test's samplings (when the run samples one): sut.* SLOs and the steps' server figures. */
  const sut: SutSample[] = [];
  const unwatch = api.watch((e) => {
    if (e.type === "sut") sut.push(e.sample);
    if (e.type !== "interval") return;
    const l = byTime.get(e.interval.t);
    if (l) l.push(e.interval);
    else byTime.set(e.interval.t, [e.interval]);
  });
  const windowOf = (from: number, to: number): MergedInterval[] =>
    [...byTime.entries()]
      .filter(([t, parts]) => t >= from && t + (parts[0]?.ms ?? I) <= to)
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
  let runId = "";
  let requested = 0;
  /** Users to start for `ms` at `rate` per second (by rate), never fewer than one. */
  const batch = (rate: number, ms: number) => Math.max(1, Math.round((rate * ms) / 1000));
  /** Brings the load to `level`: concurrent users (add or remove), or the first batch of a rate. */
  const goTo = async (level: number) => {
    const n = byRate ? batch(level, I) : level - requested;
    if (runId === "") {
      const started = await api.start({ scenario: o.scenario, users: n, settings: o.settings });
      runId = started.run_id;
      o.onStarted?.(runId);
    } else if (n > 0) await api.add(n);
    else if (n < 0) await api.remove(-n);
    requested = byRate ? requested + n : level;
  };
  /** Holds `level` and judges it; null when the search was stopped during the hold. */
  const runStep = async (level: number): Promise<CapacityStep | null> => {
    await goTo(level);
    // the window: from the interval the step's users were added in (their logins are part of the step) to the
    // end of the hold
    const from = Math.floor(clock.now() / I) * I;
    const samples: HealthSample[] = [];
    // a first sample closes the sampler's window before the hold (it may cover start-up's compile)
    sample();
    for (let held = 0; held < o.holdMs; held += I) {
      const ms = Math.min(I, o.holdMs - held);
      await sleep(clock, ms);
      const h = sample();
      if (h) samples.push(h);
      if (o.stopped?.()) return null;
      // an arrival rate goes on arriving: the next interval's batch
      if (byRate && held + ms < o.holdMs) {
        const n = batch(level, Math.min(I, o.holdMs - held - ms));
        await api.add(n);
        requested += n;
      }
    }
    // the last interval of the hold arrives a little after it ends
    const to = Math.floor(clock.now() / I) * I;
    await sleep(clock, Math.min(I, 1500));
    const window = windowOf(from, to);
    const totals = new RunTotals();
    for (const m of window) totals.add(m);
    // a sampling is taken at each interval's end: the step's are those from its first interval's end to its last's
    const server = sut.filter((x) => x.t > from && x.t <= to + I);
    const slos = o.slos.map((t) => judgeOn(t, totals, sutTable(server, (to - from) / 1000)));
    const s: CapacityStep = {
      users: level,
      from,
      to,
      slos,
      ok: slos.every((r) => r.ok),
      health: generatorHealth(window, samples),
      ...(server.length ? { server: sutMaxima(server, from, to + I) } : {}),
    };
    onStep?.(s);
    return s;
  };
  const steps: CapacityStep[] = [];
  let stopped = false;
  let run: RunEnd | undefined;
  try {
    let good: number | undefined;
    let bad: CapacityStep | undefined;
    for (let level = o.start; level <= o.max; level += o.step) {
      const s = await runStep(level);
      if (!s) {
        stopped = true;
        break;
      }
      steps.push(s);
      // a step limited by the generator measured the generator: going higher would measure it again
      if (!s.ok || s.health.limited) {
        bad = s;
        break;
      }
      good = level;
    }
    // bisect between the last good and the first bad level (not past a generator-limited step: it measured us)
    if (o.refine && bad && !bad.health.limited && good !== undefined) {
      let lo = good;
      let hi = bad.users;
      while (hi - lo > o.refine) {
        const mid = Math.round((lo + hi) / 2);
        const s = await runStep(mid);
        if (!s) {
          stopped = true;
          break;
        }
        steps.push(s);
        if (s.health.limited) break;
        if (s.ok) lo = mid;
        else hi = mid;
      }
    }
  } finally {
    unwatch();
    try {
      run = (await api.stop()).run;
    } catch {
      // the search's result stands; the stop's failure is the run's own record
    }
  }
  return {
    scenario: o.scenario,
    ...searchOutcome(steps, byRate ? "rate" : "users"),
    run_id: runId,
    ...(stopped ? { stopped } : {}),
    ...(run ? { run } : {}),
  };
}
