/** `amoc run`: one non-interactive run (local or `--dist`), then the summary on stdout. */
import { AmocError, ERROR_STATUS } from "../../errors.js";
import { createNode } from "../../node/amoc-node.js";
import { formatSummary, parseRunArgs, runLocal, RUN_USAGE } from "../run-command.js";
import { runDist } from "../run-dist.js";
import {
  describeLastInterval,
  describeRecordedEnd,
  endRunRecording,
  RESULTS_USAGE,
  runSignals,
  splitResultsArgs,
  startRunRecording,
} from "../run-results.js";
import { closeQuietly } from "./close-quietly.js";
import { configThresholds } from "../run-recording-api.js";

/** Runs, prints the summary (JSON with --json) and returns the exit code. */
export async function runCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(RUN_USAGE + "\n" + RESULTS_USAGE + "\n");
    return 0;
  }
  const { rest, results } = splitResultsArgs(args);
  const opts = parseRunArgs(rest);
  const node = createNode({ defaults: { log_level: "warn" } });
  const signals = runSignals();
  try {
    // the config file's thresholds ("thresholds": [...]) come first, then --threshold's
    results.thresholds = [...configThresholds(node.env), ...results.thresholds];
    // every run is recorded in the run store (src/results/); thresholds, --report and --junit are evaluated at its end
    let messaging = false;
    const rec = startRunRecording(
      node,
      { scenario: opts.scenario, users: opts.users, settings: opts.settings, dist: opts.dist },
      results,
      () => signals.abort(),
    );
    const io = {
      err: process.stderr,
      isTTY: process.stderr.isTTY === true,
      signals: signals.emitter,
      progressSuffix: () => {
        const tail = describeLastInterval(rec.lastInterval(), messaging);
        messaging ||= tail !== "";
        return tail;
      },
    };
    let outcome;
    try {
      outcome = opts.dist ? await runDist(node, opts, io) : await runLocal(node, opts, io);
    } catch (e) {
      rec.unfollow();
      rec.fail(e instanceof Error ? e.message : String(e), e instanceof AmocError ? ERROR_STATUS[e.code].exit : 1);
      throw e;
    }
    rec.unfollow();
    const end = endRunRecording(rec, outcome, signals.aborted);
    process.stdout.write(
      opts.json
        ? JSON.stringify({ ...outcome.summary, run_id: end.runId, verdict: end.verdict, thresholds: end.thresholds }) +
            "\n"
        : formatSummary(outcome.summary) + "\n",
    );
    process.stderr.write(describeRecordedEnd(end));
    return end.exitCode;
  } finally {
    signals.dispose();
    await closeQuietly(node);
  }
}
