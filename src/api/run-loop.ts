/**
 * The one run loop of `amoc run` (local and `--dist`): starts the users through a Node API, shows progress, ends on
 * "no user left", `--duration`, SIGINT or SIGTERM, or a run that cannot progress (no user started within a bound,
 * every node gone), then stops and builds the summary and the exit code.
 */
import type { StatusReport } from "../controller/controller.js";
import type { ApiStatus, CommandResult, NodeApi, PerNode } from "../node/node-api.js";
import type { RunProblem, RunSummary } from "./format.js";
import type { RunOptions } from "./run-command.js";

/** What differs between a local and a distributed run. */
export interface RunHooks {
  /** Resolves when no user is left (local: exact); without it the loop notices on its next status poll. */
  whenNoUsers?: () => Promise<void>;
  /** The summary's `metrics` block, from the stop result (dist: the master's merged metrics) or a local collector. */
  metrics(stop: CommandResult): RunSummary["metrics"];
  /** Per-node counts in the summary (dist). */
  perNode?: boolean;
}

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
  /** Appended to each progress line (the last interval's rate and TTD p99, src/api/run-results.ts). */
  progressSuffix?: () => string;
}

/** The summary, the exit code, and what went wrong (already written to `err`). */
export interface RunOutcome {
  summary: RunSummary;
  exitCode: number;
  problems: string[];
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };
const NO_START_MS = 15_000;

/** Runs `o` through `api` and returns the summary; SIGINT/SIGTERM stop the run and still return it. */
export async function runWithApi(api: NodeApi, o: RunOptions, hooks: RunHooks, io: RunIo): Promise<RunOutcome> {
  const problems: string[] = [];
  const runProblems: RunProblem[] = [];
  const problem = (kind: string, text: string, node?: string) => {
    problems.push(text);
    runProblems.push({ ...(node ? { node } : {}), kind, message: text });
    io.err.write(`${io.isTTY ? "\r\x1b[K" : ""}amoc: ${text}\n`);
  };
  const t0 = Date.now();
  const started = await api.start({ scenario: o.scenario, from: o.from, users: o.users, settings: o.settings });
  for (const [name, r] of Object.entries(started.nodes))
    if (!r.ok) problem("node_start_failed", `node ${name} failed to start its share of the users: ${r.error}`, name);
  if (typeof started.undealt === "number" && started.undealt > 0)
    problem("users_undealt", `${started.undealt} users were dealt to no node: no worker accepted them`);

  let signal: string | undefined;
  let wake: () => void = () => {};
  const onSignal = (name: string) => () => {
    signal ??= name;
    wake();
  };
  const handlers = Object.keys(SIGNAL_EXIT).map((s) => [s, onSignal(s)] as const);
  const sigs = io.signals ?? process;
  for (const [s, h] of handlers) sigs.on(s, h);
  let idle = false;
  void hooks.whenNoUsers?.().then(() => {
    idle = true;
    wake();
  });
  const deadline = o.durationS === undefined ? Infinity : t0 + o.durationS * 1000;
  const progressEvery = io.isTTY ? (io.ttyProgressMs ?? 500) : (io.progressMs ?? 5000);
  const noStartMs = io.noStartMs ?? NO_START_MS;
  let nextProgress = Date.now() + progressEvery;
  let announced = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    for (;;) {
      const st = await api.status();
      if (!announced) {
        announced = true;
        io.err.write(startLine(o, st) + "\n");
      }
      const u = st.users;
      const now = Date.now();
      if (now >= nextProgress) {
        nextProgress = now + progressEvery;
        const line = `running ${u.running}  started ${u.started}/${o.users}  finished ${u.finished}  crashed ${u.crashed}  removed ${u.removed}  ${Math.round((now - t0) / 1000)} s${io.progressSuffix?.() ?? ""}`;
        io.err.write(io.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
      }
      const answered = Object.values(st.nodes).filter((r) => r.ok).length;
      if (signal || now >= deadline) break;
      if (Object.keys(st.nodes).length > 0 && answered === 0) {
        problem("nodes_gone", `every node of the run is gone: ${describeFailed(st.nodes)}`);
        break;
      }
      if (u.running === 0 && u.pending === 0) {
        if (u.started > 0 || idle) break;
        problem(
          "no_users",
          `no user will start: no node holds users to start${describeFailed(st.nodes) ? ` (${describeFailed(st.nodes)})` : ""}`,
        );
        break;
      }
      if (u.started === 0 && now - t0 > noStartMs) {
        problem(
          "no_start",
          `no user started within ${noStartMs >= 1000 ? `${Math.round(noStartMs / 1000)} s` : `${noStartMs} ms`} of the start`,
        );
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
  const stopped = await api.stop();
  const summary = buildSummary(o, stopped, hooks, Date.now() - t0);
  // the cluster's own problems (master and nodes) come with the stop result
  if (Array.isArray(stopped.problems)) runProblems.push(...(stopped.problems as RunProblem[]));
  if (runProblems.length) summary.problems = runProblems;
  return { summary, exitCode: exitCode(o, signal, problems, stopped), problems };
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
      : "")
  );
}

function describeFailed(nodes: Record<string, PerNode<unknown>>): string {
  return Object.entries(nodes)
    .filter(([, r]) => !r.ok)
    .map(([n, r]) => `${n}: ${(r as { error: string }).error}`)
    .join("; ");
}

function buildSummary(o: RunOptions, stopped: CommandResult, hooks: RunHooks, durationMs: number): RunSummary {
  const users = { running: 0, started: 0, finished: 0, crashed: 0, removed: 0 };
  const nodes: NonNullable<RunSummary["nodes"]> = {};
  const errors: RunSummary["errors"] = [];
  let settings: Record<string, unknown> | undefined;
  let scenario: string | undefined;
  for (const [name, r] of Object.entries(stopped.nodes)) {
    if (!r.ok) {
      errors.push({
        reason: "cluster:node-failed",
        phase: "cluster",
        message: `${name}: ${r.error}`,
        count: 1,
        first_seen: Date.now(),
        last_seen: Date.now(),
      });
      nodes[name] = { started: 0, finished: 0, crashed: 0, running: 0 };
      continue;
    }
    const s = r.result as Partial<StatusReport>;
    const u = s.users ?? { running: 0, started: 0, finished: 0, crashed: 0, removed: 0 };
    for (const k of Object.keys(users) as Array<keyof typeof users>) users[k] += u[k] ?? 0;
    nodes[name] = {
      started: u.started ?? 0,
      finished: u.finished ?? 0,
      crashed: u.crashed ?? 0,
      running: u.running ?? 0,
    };
    errors.push(...(s.errors ?? []));
    // the nodes' view of the settings: parsed and complete (defaults included), unlike the raw flags
    settings ??= s.settings;
    scenario ??= s.scenario ?? undefined;
  }
  const summary: RunSummary = {
    scenario: scenario ?? o.scenario,
    users,
    duration_ms: Math.round(durationMs),
    settings: settings ?? o.settings,
    errors: mergeErrors(errors),
    metrics: hooks.metrics(stopped),
  };
  if (hooks.perNode) summary.nodes = nodes;
  return summary;
}

/** The same reason from several nodes: one entry with the summed count, the first example, the widest time span. */
function mergeErrors(errors: RunSummary["errors"]): RunSummary["errors"] {
  const byReason = new Map<string, RunSummary["errors"][number]>();
  for (const e of errors) {
    const seen = byReason.get(e.reason);
    if (!seen) byReason.set(e.reason, { ...e });
    else {
      seen.count += e.count;
      seen.first_seen = Math.min(seen.first_seen, e.first_seen);
      seen.last_seen = Math.max(seen.last_seen, e.last_seen);
    }
  }
  return [...byReason.values()].sort((a, b) => b.count - a.count);
}

function exitCode(o: RunOptions, signal: string | undefined, problems: string[], stopped: CommandResult): number {
  if (signal) return SIGNAL_EXIT[signal] ?? 130;
  if (problems.length) return 1;
  const failed = Object.values(stopped.nodes).some((r) => !r.ok);
  if (failed) return 1;
  let crashed = 0;
  for (const r of Object.values(stopped.nodes))
    if (r.ok) crashed += (r.result as Partial<StatusReport>).users?.crashed ?? 0;
  return crashed > 0 && !o.allowCrashes ? 1 : 0;
}
