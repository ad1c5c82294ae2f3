/**
 * Closing a run's record: the summary built once (from the recording's merged totals), the exit code by the one rule,
 * thresholds judged, the verdict stored, the report and JUnit written.
 */
import { errorMessage } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { RecordedEnd, RunRecording } from "../../results/recorder.js";
import { describeStoreLoss } from "../../results/store-loss.js";
import type { CommandResult, RunEnd, RunProblem, RunSummary, StopOptions } from "../node-api.js";
import { runExitCode } from "./exit-code.js";
import { buildRunSummary, noteNodes, type SeenNode } from "./summary.js";

/** A run being recorded. */
export interface OpenRun {
  rec: RunRecording;
  stopFollowing: () => void;
  scenario: string;
  /** The scenario version the run uses (content hash). */
  version?: string;
  settings: Record<string, unknown>;
  startedAt: number;
  seen: Map<string, SeenNode>;
  problems: RunProblem[];
  allowCrashes: boolean;
  aborted: boolean;
  /** The server under test's sampler (src/sut/), stopped before the record closes. */
  sut?: { stop(): void };
}

/** What closing needs from the service. */
export interface CloseContext {
  /** List the nodes in the summary (a cluster run). */
  perNode: boolean;
  now: () => number;
  log: Logger;
}

/** Ends `o`'s record with the stop result (undefined: ended without one); a store that fails still gives the end. */
export function closeRecord(
  o: OpenRun,
  stopped: CommandResult | undefined,
  why: Pick<StopOptions, "signal" | "problems">,
  ctx: CloseContext,
): RunEnd {
  o.sut?.stop();
  // the nodes the master reports lost (`lost_nodes`, beside the status' own), kept with their last counts
  const lostAtStop = Array.isArray(stopped?.lost_nodes) ? (stopped.lost_nodes as unknown[]) : [];
  if (stopped)
    noteNodes(
      o.seen,
      stopped.nodes,
      lostAtStop.filter((n): n is string => typeof n === "string"),
    );
  const problems = [...o.problems, ...(why.problems ?? [])];
  const failed = stopped ? Object.values(stopped.nodes).some((n) => !n.ok) : false;
  const clusterProblems = Array.isArray(stopped?.problems) ? [...(stopped.problems as RunProblem[])] : [];
  for (const [node, n] of o.seen)
    if (n.lost)
      clusterProblems.push({
        node,
        kind: "node_lost",
        message: `${node} was lost during the run after starting ${n.started} users`,
        affects: n.redealt_to
          ? `its unfinished users were re-dealt to ${Object.keys(n.redealt_to).join(", ")}`
          : "its users did not finish there",
      });
  if (!stopped)
    clusterProblems.push({
      kind: "ended_without_stop",
      message: "the run ended without a stop (the node closed, or a new run started after its users were done)",
    });
  let summary: RunSummary | undefined;
  const build = (totals: Parameters<typeof buildRunSummary>[0]["totals"]): RunSummary =>
    (summary = buildRunSummary({
      runId: o.rec.runId,
      scenario: o.scenario,
      durationMs: ctx.now() - o.startedAt,
      settings: o.settings,
      stop: stopped,
      seen: o.seen,
      totals,
      problems: [...problems, ...clusterProblems],
      perNode: ctx.perNode,
    }));
  const exitCode = (totalsCrashed: number) =>
    runExitCode({
      signal: why.signal,
      problems: problems.length > 0 || failed,
      crashed: totalsCrashed,
      allowCrashes: o.allowCrashes,
      aborted: o.aborted,
    });
  let end: RecordedEnd;
  try {
    end = o.rec.end({
      summary: (totals) => build(totals) as unknown as Record<string, unknown>,
      // the summary is built first (inside end), so its crashed count is known here
      exitCode: () => exitCode(summary?.users.crashed ?? 0),
      nodes: o.seen.size ? [...o.seen.keys()] : undefined,
    });
  } catch (e) {
    ctx.log.warn({
      msg: "run_record_failed",
      err: errorMessage(e),
      affects: "the run store lacks this run's end",
    });
    const s = summary ?? build({});
    const run: RunEnd = {
      run_id: o.rec.runId,
      verdict: "failed",
      exit_code: Math.max(1, exitCode(s.users.crashed)),
      thresholds: [],
      summary: s,
      store_loss: `the run's end was not recorded: ${errorMessage(e)}`,
    };
    return run;
  }
  const run: RunEnd = {
    run_id: end.runId,
    verdict: end.verdict,
    exit_code: end.exitCode,
    thresholds: end.thresholds,
    summary: summary ?? build({}),
  };
  if (end.reportPath) run.report_path = end.reportPath;
  if (end.junitPath) run.junit_path = end.junitPath;
  if (end.storeLoss) run.store_loss = describeStoreLoss(end.storeLoss);
  ctx.log.info({
    msg: "run_recorded",
    run: end.runId,
    verdict: end.verdict,
    thresholds: end.thresholds.filter((t) => !t.ok).map((t) => t.expr),
    ...(run.store_loss ? { store_loss: run.store_loss } : {}),
  });
  return run;
}
