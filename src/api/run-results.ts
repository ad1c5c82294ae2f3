/**
 * What `amoc run` adds for results: the `--threshold`, `--report`, `--junit` and `--abort-on-fail` flags, and the
 * recording of the run into the run store (src/results/recorder.ts) around the run loop.
 */
import { EventEmitter } from "node:events";
import type { AmocNode } from "../node/amoc-node.js";
import { recordRun, type LastInterval, type RecordedEnd, type RunRecording } from "../results/recorder.js";
import { describeStoreLoss } from "../results/store-loss.js";
import { resultsFeed } from "../cluster/results-feed.js";
import { parseThresholds, type Threshold } from "../results/thresholds.js";
import { UsageError } from "../errors.js";
import { runStorePath } from "./commands/runs.js";

/** The results flags of `amoc run`, as the usage lists them. */
export const RESULTS_USAGE = `  --threshold EXPR  a pass/fail target, repeatable: 'xmpp.message_ttd.p99<50', 'users.crashed==0' (exit 3 on a breach)
  --report FILE     the HTML report of the run; --junit FILE: one JUnit test case per threshold
  --abort-on-fail   stop the run at the first interval that breaches a threshold
  every run is recorded in the run store: bin/amoc runs, bin/amoc report ID`;

/** The parsed results flags. */
export interface ResultsOptions {
  thresholds: Threshold[];
  reportPath?: string;
  junitPath?: string;
  abortOnFail: boolean;
}

const VALUE_FLAGS = ["--threshold", "--report", "--junit"];

/**
 * Takes the results flags out of `amoc run`'s argv (the rest goes to parseRunArgs); thresholds are parsed here, so a
 * bad one is a usage error (exit 2) before anything starts.
 */
export function splitResultsArgs(argv: string[]): { rest: string[]; results: ResultsOptions } {
  const rest: string[] = [];
  const exprs: string[] = [];
  const results: ResultsOptions = { thresholds: [], abortOnFail: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const eq = a.indexOf("=");
    const flag = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    if (a === "--abort-on-fail") {
      results.abortOnFail = true;
      continue;
    }
    if (!VALUE_FLAGS.includes(flag)) {
      rest.push(a);
      continue;
    }
    const v = eq > 0 && flag !== a ? a.slice(eq + 1) : argv[++i];
    if (v === undefined || v === "") throw new UsageError(`${flag} needs a value`, RESULTS_USAGE);
    if (flag === "--threshold") exprs.push(v);
    else if (flag === "--report") results.reportPath = v;
    else results.junitPath = v;
  }
  results.thresholds = parseThresholds(exprs);
  if (results.abortOnFail && !results.thresholds.length)
    throw new UsageError("--abort-on-fail needs at least one --threshold", RESULTS_USAGE);
  return { rest, results };
}

/** Starts recording a run of `node` into its run store; `onAbort` stops the run at a live breach (--abort-on-fail). */
export function startRunRecording(
  node: AmocNode,
  run: { scenario: string; users: number; settings: Record<string, unknown>; nodes?: string[]; dist?: boolean },
  r: ResultsOptions,
  onAbort?: () => void,
): RunRecording & { unfollow(): void } {
  const rec = recordRun({
    telemetry: node.telemetry,
    // --dist: this node masters; its workers publish the intervals (src/cluster/results-publisher.ts)
    localIntervals: !run.dist,
    node: node.settings.node_name,
    storePath: runStorePath(node.settings.data_dir, node.env),
    intervalMs: node.settings.results_interval,
    scenario: run.scenario,
    settings: run.settings,
    users: run.users,
    nodes: run.nodes,
    thresholds: r.thresholds,
    abortOnFail: r.abortOnFail,
    onAbort,
    reportPath: r.reportPath,
    junitPath: r.junitPath,
    log: node.log,
  });
  const unfollow = run.dist ? resultsFeed(node.telemetry).follow(rec) : () => {};
  return Object.assign(rec, { unfollow });
}

/** One line on the last interval for a printed status ('' before the first): message rates, TTD and connection p99. */
export function formatLastInterval(last: LastInterval | null | undefined): string {
  if (!last) return "";
  const parts = [
    ["xmpp.messages_sent", "sent"],
    ["xmpp.messages_received", "received"],
  ].flatMap(([k, label]) => (last.rates[k!] === undefined ? [] : [`${label} ${last.rates[k!]}/s`]));
  for (const [k, label] of [
    ["xmpp.message_ttd", "TTD"],
    ["xmpp.connection", "connect"],
  ] as const)
    if (last.p99[k] !== undefined) parts.push(`${label} p99 ${last.p99[k]} ms`);
  if (last.rates["users.started"] !== undefined) parts.push(`users started ${last.rates["users.started"]}/s`);
  return `last interval (${new Date(last.t).toISOString().slice(11, 19)}, ${last.ms / 1000} s): ${parts.join(", ") || "no messages"}`;
}

/**
 * The progress line's tail: the last interval's message rate and time-to-delivery p99 ('' before the first, and
 * while no message was ever sent: `messaging` says one was).
 */
export function describeLastInterval(last: LastInterval | undefined, messaging = false): string {
  if (!last) return "";
  const sent = last.rates["xmpp.messages_sent"];
  const ttd = last.p99["xmpp.message_ttd"];
  if (sent === undefined && ttd === undefined && !messaging) return "";
  return `  |  last ${last.ms / 1000} s: ${sent ?? 0} msg/s, TTD p99 ${ttd === undefined ? "-" : `${ttd} ms`}`;
}

/** The lines `amoc run` prints after the summary: thresholds, the run id, the report (stderr). */
export function describeRecordedEnd(end: RecordedEnd): string {
  const lines = end.thresholds.map((t) => `threshold ${t.ok ? "ok      " : "BREACHED"}  ${t.expr}  (${t.message})`);
  lines.push(
    `run ${end.runId} recorded: ${end.verdict}${end.reportPath ? `; report ${end.reportPath}` : ""}${end.junitPath ? `; junit ${end.junitPath}` : ""}`,
  );
  if (end.storeLoss) lines.push(describeStoreLoss(end.storeLoss));
  return lines.join("\n") + "\n";
}

/** Signals for the run loop: the process's SIGINT/SIGTERM, plus `abort()` (a live threshold breach) as SIGTERM. */
export function runSignals(): {
  emitter: NodeJS.EventEmitter;
  abort(): void;
  readonly aborted: boolean;
  dispose(): void;
} {
  const emitter = new EventEmitter();
  let aborted = false;
  const fwd = (s: NodeJS.Signals) => () => emitter.emit(s);
  const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, fwd(s)] as const);
  // only while the loop listens: with no listener, the process keeps its default Ctrl+C behaviour
  emitter.on("newListener", (name: string) => {
    const h = handlers.find(([s]) => s === name);
    if (h && emitter.listenerCount(name) === 0) process.on(h[0], h[1]);
  });
  emitter.on("removeListener", (name: string) => {
    const h = handlers.find(([s]) => s === name);
    if (h && emitter.listenerCount(name) === 0) process.removeListener(h[0], h[1]);
  });
  return {
    emitter,
    abort() {
      aborted = true;
      emitter.emit("SIGTERM");
    },
    get aborted() {
      return aborted;
    },
    dispose() {
      for (const [s, h] of handlers) process.removeListener(s, h);
    },
  };
}

/** Ends the recording after the run loop: the runner's exit code (an abort on a breach counts as crashed, so it becomes 3). */
export function endRunRecording(
  rec: RunRecording,
  outcome: { summary: object; exitCode: number },
  aborted: boolean,
): RecordedEnd {
  const summary = outcome.summary as Record<string, unknown>;
  const nodes = summary.nodes && typeof summary.nodes === "object" ? Object.keys(summary.nodes) : undefined;
  return rec.end({ summary, exitCode: aborted ? 1 : outcome.exitCode, nodes: nodes?.length ? nodes : undefined });
}
