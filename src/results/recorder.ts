/**
 * `recordRun`: what `amoc run` (or a cluster master) calls to keep a run: aggregates this node's telemetry per
 * interval into the run store, accepts other nodes' intervals (`addInterval`), and at the end evaluates thresholds on
 * the merged results, stores the verdict and writes the HTML report and JUnit file when asked.
 */
import { writeFileSync } from "node:fs";
import { IntervalAggregator } from "./aggregator.js";
import type { EncodedInterval, RunEventRecord } from "./interval.js";
import { mergeIntervals, RunTotals } from "./merge.js";
import { junitXml } from "./junit.js";
import { renderReport } from "./report.js";
import { readRunResults } from "./run-results.js";
import { RunStore } from "./store.js";
import { LiveThresholds } from "./live-thresholds.js";
import { toMergedRow } from "./merged-row.js";
import { StoreLossCounter } from "./store-loss.js";
import { OnlinePeak, sutSummary, sutTable, type SutSample } from "./sut-series.js";
import { verdictOf, type LastInterval, type RecordedEnd, type RecordOptions, type RunRecording } from "./recording.js";

/** How many of the last merged times a late part may still join. */
const LATE_SLOTS = 30;

export type { LastInterval, RecordedEnd, RecordOptions, RunRecording } from "./recording.js";
export { verdictOf } from "./recording.js";

/** Starts recording a run; see the file comment. */
export function recordRun(o: RecordOptions): RunRecording {
  const store = (o.openStore ?? RunStore.open)(o.storePath);
  const now = o.now ?? Date.now;
  const startedAt = now();
  // creating the run stays fatal: a run whose store cannot even be written to at its start is refused before it runs
  const runId = store.createRun({
    scenario: o.scenario,
    sourceHash: o.sourceHash,
    settings: o.settings,
    nodes: o.nodes ?? [o.node],
    users: o.users,
    intervalMs: o.intervalMs,
    startedAt,
  });
  const live = new RunTotals();
  // the server under test's samplings: kept for sut.* thresholds and the summary's sessions check
  const sut: SutSample[] = [];
  let ended = false;
  /** The run's peak of users online, where sessionsAtPeak compares the server's count with ours. */
  const online = new OnlinePeak();
  const tableNow = () => ({ ...live.table(), ...sutTable(sut, (now() - startedAt) / 1000) });
  // every write from here on is guarded: the store failing mid-run must not end the run (it runs in timers)
  const loss = new StoreLossCounter(o.log, runId, now);
  const thresholds = o.thresholds ?? [];
  // a cluster master (no local intervals) learns its workers from setNodes and the intervals that arrive
  const expected = new Set(o.nodes ?? (o.localIntervals === false ? [] : [o.node]));
  /** The parts of the last merged times, so a part arriving after its time was merged still joins it. */
  const mergedParts = new Map<number, EncodedInterval[]>();
  /** Nodes' parts of intervals not merged yet, by time. */
  const pending = new Map<number, EncodedInterval[]>();
  let latestT = -Infinity;
  let last: LastInterval | undefined;
  const judged = new LiveThresholds(thresholds, o.abortOnFail ?? false);
  /** Stops the run (through `onAbort`) when an abortable threshold breached on what was merged so far. */
  const checkLive = () => {
    const breached = judged.breaches(live, tableNow());
    if (!breached.length) return;
    loss.write("events", () =>
      store.addEvent(runId, {
        t: now(),
        kind: "threshold_breach",
        node: o.node,
        data: {
          thresholds: breached.map((b) => b.expr),
          message: breached.map((b) => b.message).join("; "),
          abort: true,
        },
      }),
    );
    o.onAbort?.(breached);
  };
  /**
   * Merges and stores every pending time whose parts all arrived, or that is 2 intervals old, or all (`force`). A part
   * arriving later re-merges its time while it is one of the last LATE_SLOTS merged (older ones stay per node only).
   */
  const flush = (force: boolean) => {
    for (const [t, parts] of [...pending].sort((a, b) => a[0] - b[0])) {
      const complete = [...expected].every((n) => parts.some((p) => p.node === n));
      if (!force && !complete && t > latestT - 2 * o.intervalMs) continue;
      pending.delete(t);
      const m = mergeIntervals(parts);
      loss.write("merged", () => store.addMerged(runId, toMergedRow(m)));
      live.add(m);
      online.add(m);
      judged.add(m);
      mergedParts.set(t, parts);
      if (mergedParts.size > LATE_SLOTS) mergedParts.delete(mergedParts.keys().next().value as number);
      last = {
        t: m.t,
        ms: m.ms,
        rates: Object.fromEntries(
          Object.entries(m.counters).map(([k, v]) => [k, Math.round((v / (m.ms / 1000)) * 100) / 100]),
        ),
        p99: Object.fromEntries(Object.entries(m.stats).map(([k, x]) => [k, x.p99])),
      };
    }
    checkLive();
  };
  const onInterval = (i: EncodedInterval) => {
    loss.write("intervals", () => store.addInterval(runId, i));
    tell(o.onInterval, i);
    const merged = mergedParts.get(i.t);
    if (merged) {
      if (merged.some((p) => p.node === i.node)) return;
      merged.push(i);
      loss.write("merged", () => store.addMerged(runId, toMergedRow(mergeIntervals(merged))));
      // the totals gain its counts and timings; gauges are the cluster's per time, not one node's
      live.add({ ...mergeIntervals([i]), gauges: {} });
      return;
    }
    if (!gone.has(i.node)) expected.add(i.node);
    latestT = Math.max(latestT, i.t);
    const l = pending.get(i.t);
    if (l) l.push(i);
    else pending.set(i.t, [i]);
    flush(false);
  };
  const gone = new Set<string>();
  const onEvent = (e: RunEventRecord) => {
    loss.write("events", () => store.addEvent(runId, e));
    tell(o.onEvent, e);
    // a node down or gone: its part of later intervals will not come
    const node = typeof e.data.node === "string" ? e.data.node : undefined;
    if (node && e.kind === "node_up") gone.delete(node);
    if (node && (e.kind === "node_down" || e.kind === "node_left")) {
      gone.add(node);
      expected.delete(node);
      flush(false);
    }
  };
  const setNodes = (nodes: string[]) => {
    expected.clear();
    for (const n of nodes) if (!gone.has(n)) expected.add(n);
    flush(false);
  };
  const local = o.localIntervals !== false;
  const offEvents =
    o.telemetry && !local
      ? o.telemetry.on(
          "run.event",
          (e) =>
            onEvent({
              t: now(),
              kind: e.kind,
              node: typeof e.data.node === "string" ? e.data.node : o.node,
              data: e.data,
            }),
          "results-recorder",
        )
      : undefined;
  const agg =
    o.telemetry && local
      ? new IntervalAggregator({
          telemetry: o.telemetry,
          node: o.node,
          intervalMs: o.intervalMs,
          onInterval,
          onEvent,
          onError: (e) => loss.failed("intervals", e),
          now,
          manual: o.manualTicks,
        })
      : undefined;
  return {
    runId,
    addInterval: onInterval,
    addEvent: onEvent,
    setNodes,
    lastInterval: () => last,
    storeLoss: () => loss.get(),
    tick: () => agg?.tick(),
    addSut(s) {
      if (ended) return;
      sut.push(s);
      // counted with the intervals: a lost sampling is a lost part of the run's time series
      loss.write("intervals", () => store.addSutSample(runId, s));
    },
    discard() {
      try {
        agg?.close();
        offEvents?.();
        store.deleteRun(runId);
      } finally {
        store.close();
      }
    },
    fail(message, exitCode) {
      try {
        agg?.close();
        offEvents?.();
        flush(true);
        loss.write("end", () =>
          store.finishRun(runId, {
            endedAt: now(),
            summary: { error: message },
            verdict: "failed",
            exitCode,
            totals: live.encode(),
          }),
        );
      } finally {
        store.close();
      }
    },
    end({ summary: summaryOf, exitCode: codeOf, nodes }) {
      try {
        ended = true;
        agg?.close();
        offEvents?.();
        flush(true);
        const table = live.table();
        const summary = typeof summaryOf === "function" ? summaryOf(table) : summaryOf;
        if (sut.length) summary.sut = sutSummary(sut, online.peak);
        const exitCode = typeof codeOf === "function" ? codeOf(summary) : codeOf;
        const evaluated = judged.results(live, tableNow());
        for (const r of evaluated.filter((x) => !x.ok))
          loss.write("events", () =>
            store.addEvent(runId, {
              t: now(),
              kind: "threshold_breach",
              node: o.node,
              data: { threshold: r.expr, message: r.message },
            }),
          );
        const v = verdictOf(exitCode, evaluated);
        const settings =
          summary.settings && typeof summary.settings === "object"
            ? (summary.settings as Record<string, unknown>)
            : undefined;
        // the verdict comes from the live totals, so it stands (and is printed) even when the store cannot keep it
        loss.write("end", () =>
          store.finishRun(
            runId,
            {
              endedAt: now(),
              summary,
              verdict: v.verdict,
              exitCode: v.exitCode,
              nodes,
              settings,
              totals: live.encode(),
            },
            evaluated,
          ),
        );
        const out: RecordedEnd = { runId, verdict: v.verdict, exitCode: v.exitCode, thresholds: evaluated };
        if (o.reportPath) {
          // the report is read back from the store; a store that cannot be read leaves no report, not a lost run
          let results: ReturnType<typeof readRunResults> | undefined;
          loss.write("end", () => (results = readRunResults(store, runId)));
          if (results) {
            writeFileSync(o.reportPath, renderReport(results));
            out.reportPath = o.reportPath;
          }
        }
        if (o.junitPath) {
          writeFileSync(
            o.junitPath,
            // the run's real duration: the intervals' span is a whole number of intervals
            junitXml({ scenario: o.scenario, runId, durationS: (now() - startedAt) / 1000, results: evaluated }),
          );
          out.junitPath = o.junitPath;
        }
        const lost = loss.get();
        if (lost) out.storeLoss = lost;
        return out;
      } finally {
        store.close();
      }
    },
  };
}

/** Calls a watcher; a watcher that throws must not break the recording (it runs in timers). */
function tell<T>(fn: ((x: T) => void) | undefined, x: T): void {
  try {
    fn?.(x);
  } catch {
    // the watcher's own problem: the run goes on
  }
}
