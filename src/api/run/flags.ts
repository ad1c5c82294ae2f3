/**
 * What `amoc run` adds for results: the `--threshold`, `--report`, `--junit` and `--abort-on-fail` flags (the run
 * service records the run and judges them), the progress line's tail, and the signals that stop the loop.
 */
import { EventEmitter } from "node:events";
import { UsageError } from "../../errors.js";
import type { LastInterval } from "../../results/recorder.js";
import { parseThresholds } from "../../results/thresholds.js";

/** The results flags of `amoc run`, as the usage lists them. */
export const RESULTS_USAGE = `  --threshold EXPR  a pass/fail target, repeatable: 'xmpp.message_ttd.p99<50', 'users.crashed==0' (exit 3 on a breach)
  --report FILE     the HTML report of the run; --junit FILE: one JUnit test case per threshold
  --abort-on-fail   stop the run at the first interval that breaches a threshold
  every run is recorded in the run store: bin/amoc runs, bin/amoc report ID`;

/** The parsed results flags. */
export interface ResultsOptions {
  /** As given (checked here; the run service judges them with the config file's). */
  thresholds: string[];
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
  // parsed here too, so a bad one is a usage error before the node is even built
  parseThresholds(exprs);
  results.thresholds = exprs;
  if (results.abortOnFail && !results.thresholds.length)
    throw new UsageError("--abort-on-fail needs at least one --threshold", RESULTS_USAGE);
  return { rest, results };
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

/** Signals for the run loop: the process's SIGINT/SIGTERM, only while the loop listens. */
export function runSignals(): { emitter: NodeJS.EventEmitter; dispose(): void } {
  const emitter = new EventEmitter();
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
    dispose() {
      for (const [s, h] of handlers) process.removeListener(s, h);
    },
  };
}
