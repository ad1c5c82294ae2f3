/**
 * The one run loop of `amoc run` (local and `--dist`): starts the run through the Node API (which validates,
 * records and judges it), shows progress, ends on "no user left", `--duration`, SIGINT or SIGTERM, a run that cannot
 * progress (no user started within a bound, every node gone), or the run's own end (a threshold breach with
 * --abort-on-fail), then stops it. The stop's reply carries the run's end: summary, thresholds, verdict, exit code.
 */
import type { StatusReport } from "../../controller/types.js";
import type { ApiStatus, NodeApi, PerNode, RunEnd, RunProblem, RunSummary } from "../../node/node-api.js";
import { describeLastInterval, type ResultsOptions } from "./flags.js";
import type { RunOptions } from "./options.js";

/** Where progress goes and how often. */
export interface RunIo {
  /** stderr, for the start line, progress and problems. */
  err: NodeJS.WritableStream;
  /** A TTY redraws one line every `ttyProgressMs`; otherwise one line every `progressMs`. */
  isTTY: boolean;
  progressMs?: number;
  ttyProgressMs?: number;
  /** How often the loop polls status. */
  pollMs?: number;
  /** No user started this long after the start: the run ends with an error. */
  noStartMs?: number;
  /** Signals that end the run early and still print the summary. */
  signals?: NodeJS.EventEmitter;
}

/** The run's end as the stop replied it, and what went wrong here (already written to `err`). */
export interface RunOutcome {
  end: RunEnd;
  summary: RunSummary;
  exitCode: number;
  problems: string[];
}

const SIGNALS = ["SIGINT", "SIGTERM"];
const NO_START_MS = 15_000;

/** Runs `o` through `api`; SIGINT/SIGTERM stop the run and still return its end. */
export async function runWithApi(api: NodeApi, o: RunOptions, results: ResultsOptions, io: RunIo): Promise<RunOutcome> {
  const problems: string[] = [];
  const runProblems: RunProblem[] = [];
  const say = (text: string) => io.err.write(`${io.isTTY ? "\r\x1b[K" : ""}amoc: ${text}\n`);
  const problem = (kind: string, text: string) => {
    problems.push(text);
    runProblems.push({ kind, message: text });
    say(text);
  };
  let signal: string | undefined;
  let ended: RunEnd | undefined;
  let wake: () => void = () => {};
  let runId: string | undefined;
  // the run may end by itself (abort on a breach): the service stops it and tells its watchers (a start may end
  // the node's previous run first: only this run's end counts)
  const ends: RunEnd[] = [];
  const unwatch = api.watch((e) => {
    if (e.type !== "end") return;
    ends.push(e.run);
    if (runId !== undefined && e.run.run_id === runId) {
      ended = e.run;
      wake();
    }
  });
  const t0 = Date.now();
  let started;
  try {
    started = await api.start({
      scenario: o.scenario,
      from: o.from,
      users: o.users,
      settings: o.settings,
      thresholds: results.thresholds,
      abortOnFail: results.abortOnFail,
      reportPath: results.reportPath,
      junitPath: results.junitPath,
      allowCrashes: o.allowCrashes,
    });
  } catch (e) {
    unwatch();
    throw e;
  }
  runId = started.run_id;
  ended = ends.find((e) => e.run_id === runId);
  // the run service counts these as the run's problems; said here as they happen
  for (const [name, r] of Object.entries(started.nodes))
    if (!r.ok) {
      problems.push(`node ${name} failed to start its share of the users: ${r.error}`);
      say(problems.at(-1)!);
    }
  if (typeof started.undealt === "number" && started.undealt > 0) {
    problems.push(`${started.undealt} users were dealt to no node: no worker accepted them`);
    say(problems.at(-1)!);
  }

  const onSignal = (name: string) => () => {
    signal ??= name;
    wake();
  };
  const handlers = SIGNALS.map((s) => [s, onSignal(s)] as const);
  const sigs = io.signals ?? process;
  for (const [s, h] of handlers) sigs.on(s, h);
  let idle = false;
  // local: exact; a cluster's status polls say it
  if (api.mode === "local")
    void api.whenNoUsers().then(() => {
      idle = true;
      wake();
    });
  const deadline = o.durationS === undefined ? Infinity : t0 + o.durationS * 1000;
  const progressEvery = io.isTTY ? (io.ttyProgressMs ?? 500) : (io.progressMs ?? 5000);
  const noStartMs = io.noStartMs ?? NO_START_MS;
  let nextProgress = Date.now() + progressEvery;
  let announced = false;
  let messaging = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    while (!ended) {
      const st = await api.status();
      if (!announced) {
        announced = true;
        io.err.write(startLine(o, st) + "\n");
      }
      const u = st.users;
      const now = Date.now();
      if (now >= nextProgress) {
        nextProgress = now + progressEvery;
        const tail = describeLastInterval(st.last_interval ?? undefined, messaging);
        messaging ||= tail !== "";
        const line = `running ${u.running}  started ${u.started}/${o.users}  finished ${u.finished}  crashed ${u.crashed}  removed ${u.removed}  ${Math.round((now - t0) / 1000)} s${tail}`;
        io.err.write(io.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
      }
      const answered = Object.values(st.nodes).filter((r) => r.ok).length;
      if (signal || ended || now >= deadline) break;
      if (Object.keys(st.nodes).length > 0 && answered === 0) {
        problem("nodes_gone", `every node of the run is gone: ${describeFailed(st.nodes)}`);
        break;
      }
      if (u.running === 0 && u.pending === 0) {
        if (u.started > 0 || idle) break;
        const failed = describeFailed(st.nodes);
        problem("no_users", `no user will start: no node holds users to start${failed ? ` (${failed})` : ""}`);
        break;
      }
      if (u.started === 0 && now - t0 > noStartMs) {
        const bound = noStartMs >= 1000 ? `${Math.round(noStartMs / 1000)} s` : `${noStartMs} ms`;
        problem("no_start", `no user started within ${bound} of the start`);
        break;
      }
      await new Promise<void>((r) => {
        wake = r;
        timer = setTimeout(r, Math.min(io.pollMs ?? 250, Math.max(1, deadline - Date.now())));
      });
      clearTimeout(timer);
      wake = () => {};
    }
  } finally {
    for (const [s, h] of handlers) sigs.removeListener(s, h);
    if (io.isTTY) io.err.write("\r\x1b[K");
  }
  const end = ended ?? (await stopRun(api, signal, runProblems, () => ended));
  unwatch();
  return { end, summary: end.summary, exitCode: end.exit_code, problems };
}

/** Stops the run with why it stops; a run that ended meanwhile (an abort) gives that end instead. */
async function stopRun(
  api: NodeApi,
  signal: string | undefined,
  problems: RunProblem[],
  endedMeanwhile: () => RunEnd | undefined,
): Promise<RunEnd> {
  let run: RunEnd | undefined;
  try {
    run = (await api.stop({ signal, problems })).run;
  } catch (e) {
    run = endedMeanwhile();
    if (!run) throw e;
  }
  run ??= endedMeanwhile();
  if (!run) throw new Error("the stop ended no run (was it stopped elsewhere?): bin/amoc runs lists it");
  return run;
}

/** A load shape in words (stages or arrival_rate as given), or undefined without one. */
function shapeWords(o: RunOptions): string | undefined {
  if (o.settings.stages !== undefined) return `stages ${JSON.stringify(o.settings.stages)}`;
  if (o.settings.arrival_rate !== undefined)
    return `arrival_rate ${JSON.stringify(o.settings.arrival_rate)} (users/s${o.settings.arrival_process === "poisson" ? ", poisson" : ""})`;
  return undefined;
}

/** The effective run settings, said once at the start, so a run without --repeat does not look stuck. */
function startLine(o: RunOptions, st: ApiStatus): string {
  const first = Object.values(st.nodes).find((r): r is { ok: true; result: StatusReport } => r.ok);
  const s = first?.result.settings ?? {};
  const repeat = s.repeat_num ?? "?";
  const forever = repeat === "infinity" && o.durationS === undefined;
  return (
    `amoc run ${o.scenario}: ${shapeWords(o) ?? `${o.users} users, interarrival ${String(s.interarrival ?? "?")} ms`}, repeat ${String(repeat)}` +
    `${repeat === 1 ? "" : `, repeat interval ${String(s.repeat_interval ?? "?")} ms`}${o.durationS !== undefined ? `, duration ${o.durationS} s` : ""}` +
    (forever
      ? "\n  users repeat until stopped: Ctrl+C (or SIGTERM) stops and prints the summary; --repeat N or --duration S end it"
      : "") +
    (o.repeatDefaulted
      ? "\n  each user runs start() once (amoc run without --duration); --repeat N|infinity or --duration S repeats it"
      : "")
  );
}

function describeFailed(nodes: Record<string, PerNode<unknown>>): string {
  return Object.entries(nodes)
    .filter(([, r]) => !r.ok)
    .map(([n, r]) => `${n}: ${(r as { error: string }).error}`)
    .join("; ");
}
