/**
 * Results benchmark (issue 12): the cost of the time series on a worker at 10,000 stanzas/s, the master's cost of
 * merging 16 nodes' intervals each second, and the HTML report of a 1-hour run of 16 nodes (time and size).
 *   npx tsx bench/results-series.ts [--hours H] [--nodes N]
 * Prints a table and one JSON line.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { IntervalAggregator } from "../src/results/aggregator.js";
import { Histogram } from "../src/results/histogram.js";
import { decodeInterval, encodeInterval, type EncodedInterval } from "../src/results/interval.js";
import { recordRun } from "../src/results/recorder.js";
import { renderReport } from "../src/results/report.js";
import { readRunResults } from "../src/results/run-results.js";
import { RunStore } from "../src/results/store.js";
import { Telemetry } from "../src/telemetry.js";
import { loadAverage, recordFigures } from "./lib/results.js";

const { values } = parseArgs({
  options: { hours: { type: "string", default: "1" }, nodes: { type: "string", default: "16" } },
});
const hours = Number(values.hours);
const nodeCount = Number(values.nodes);

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// 1. a worker at 10,000 stanzas/s: each stanza is a counter and a TTD timing through telemetry into the aggregator;
//    measured as CPU per stanza with and without the aggregator subscribed, plus the per-interval encode
function workerCost(): { nsPerStanza: number; encodeMsPerInterval: number; corePct: number } {
  const stanzas = 2_000_000;
  const run = (withAgg: boolean) => {
    const t = new Telemetry();
    t.on("metric", () => {}); // the StatsD bridge stands in: the bus delivers to someone either way
    const agg = withAgg
      ? new IntervalAggregator({ telemetry: t, node: "w", intervalMs: 1000, manual: true, onInterval: () => {} })
      : undefined;
    const c0 = cpuMs();
    for (let i = 0; i < stanzas; i++) {
      t.emit("metric", { kind: "count", name: "xmpp.messages_received", value: 1 });
      t.emit("metric", { kind: "timing", name: "xmpp.message_ttd", value: 0.2 + (i % 997) / 50 });
    }
    const ms = cpuMs() - c0;
    agg?.close();
    return ms;
  };
  run(true); // warm up
  const base = run(false);
  const withAgg = run(true);
  // one interval's encode: the histograms of a busy worker (5 timings)
  const t = new Telemetry();
  let encoded = 0;
  const agg = new IntervalAggregator({
    telemetry: t,
    node: "w",
    intervalMs: 1000,
    manual: true,
    now: () => 0,
    onInterval: () => encoded++,
  });
  const reps = 200;
  const c0 = cpuMs();
  for (let r = 0; r < reps; r++) {
    for (let i = 0; i < 10_000; i++)
      t.emit("metric", { kind: "timing", name: `m${i % 5}`, value: 0.2 + (i % 997) / 50 });
    (agg as unknown as { emit(n: number): void }).emit(0);
  }
  const encodeMsPerInterval = (cpuMs() - c0) / reps;
  const nsPerStanza = ((withAgg - base) * 1e6) / stanzas;
  const corePct = ((nsPerStanza * 10_000) / 1e9) * 100 + (encodeMsPerInterval / 1000) * 100;
  return {
    nsPerStanza: Math.round(nsPerStanza),
    encodeMsPerInterval: Math.round(encodeMsPerInterval * 1000) / 1000,
    corePct: Math.round(corePct * 100) / 100,
  };
}

/** One node's interval with realistic histograms: 625 stanzas/s per node (10,000 over 16), 5 timings. */
function sampleInterval(node: string, t: number, seed: number): EncodedInterval {
  const h: Record<string, string> = {};
  for (const name of ["xmpp.message_ttd", "xmpp.connection", "users.start_lag", "xmpp.login", "xmpp.roster"]) {
    const hist = new Histogram();
    const n = name === "xmpp.message_ttd" ? 625 : 20;
    for (let i = 0; i < n; i++) hist.recordMs(0.3 + ((i * 7919 + seed) % 1000) / 25);
    h[name] = hist.encode();
  }
  return {
    v: 1,
    node,
    t,
    ms: 1000,
    c: { "xmpp.messages_sent": 625, "xmpp.messages_received": 625, "users.started": 1 },
    g: { "users.running": 500 + (seed % 50) },
    h,
  };
}

// 2. the master merging 16 nodes' intervals each second: decode from the wire, store each, merge, store the merge
function masterCost(dir: string): { msPerSecond: number; corePct: number; bytesPerInterval: number } {
  const names = Array.from({ length: nodeCount }, (_, n) => `n${n}`);
  const rec = recordRun({
    node: "master",
    storePath: join(dir, "merge.sqlite"),
    intervalMs: 1000,
    scenario: "bench",
    settings: {},
    users: 0,
    nodes: names,
  });
  const wire = names.map((n, k) => encodeInterval(sampleInterval(n, 0, k)));
  const seconds = 100;
  const c0 = cpuMs();
  for (let s = 0; s < seconds; s++) for (const w of wire) rec.addInterval({ ...decodeInterval(w), t: s * 1000 });
  const ms = (cpuMs() - c0) / seconds;
  rec.end({ summary: {}, exitCode: 0 });
  return {
    msPerSecond: Math.round(ms * 100) / 100,
    corePct: Math.round((ms / 1000) * 100 * 100) / 100,
    bytesPerInterval: Math.round(wire.reduce((a, w) => a + w.length, 0) / wire.length),
  };
}

// 3. the report of a long run of N nodes, recorded as a master records it
function reportCost(dir: string): { intervals: number; recordS: number; generateS: number; sizeMB: number } {
  const path = join(dir, "runs.sqlite");
  const t0 = Date.UTC(2026, 10, 29, 12);
  const seconds = Math.round(hours * 3600);
  const names = Array.from({ length: nodeCount }, (_, n) => `worker${n + 1}`);
  const rec = recordRun({
    node: "master",
    storePath: path,
    intervalMs: 1000,
    scenario: "bench",
    settings: { interarrival: 10 },
    users: 8000,
    nodes: names,
    now: () => t0,
  });
  const templates = names.map((name, n) => Array.from({ length: 7 }, (_, k) => sampleInterval(name, 0, n * 7 + k)));
  const w0 = performance.now();
  let count = 0;
  for (let s = 0; s < seconds; s++)
    for (let n = 0; n < nodeCount; n++) {
      rec.addInterval({ ...(templates[n]![s % 7] as EncodedInterval), t: t0 + s * 1000 });
      count++;
    }
  rec.end({ summary: {}, exitCode: 0 });
  const recordS = (performance.now() - w0) / 1000;
  const g0 = performance.now();
  const store = RunStore.open(path, { readonly: true });
  const html = renderReport(readRunResults(store, rec.runId));
  const generateS = (performance.now() - g0) / 1000;
  const file = join(dir, "report.html");
  writeFileSync(file, html);
  store.close();
  return {
    intervals: count,
    recordS: Math.round(recordS * 10) / 10,
    generateS: Math.round(generateS * 100) / 100,
    sizeMB: Math.round((statSync(file).size / 1024 / 1024) * 100) / 100,
  };
}

const loadBefore = loadAverage();
const dir = mkdtempSync(join(tmpdir(), "amoc-results-bench-"));
try {
  const worker = workerCost();
  const master = masterCost(dir);
  const report = reportCost(dir);
  console.log(
    `worker at 10,000 stanzas/s:   ${worker.nsPerStanza} ns/stanza extra, ${worker.encodeMsPerInterval} ms per interval encode -> ${worker.corePct} % of a core (target <= 2 %)`,
  );
  console.log(
    `master merging ${nodeCount} nodes/s:     ${master.msPerSecond} ms CPU per second -> ${master.corePct} % of a core (target <= 5 %); ${master.bytesPerInterval} B per node interval`,
  );
  console.log(
    `report of ${hours} h x ${nodeCount} nodes:     ${report.intervals} intervals recorded in ${report.recordS} s; report generated in ${report.generateS} s (target <= 5 s), ${report.sizeMB} MB (target <= 3 MB)`,
  );
  console.log(JSON.stringify({ bench: "results-series", hours, nodes: nodeCount, worker, master, report }));
  // what each figure is: a tight loop's cost per stanza and synthetic intervals, not a run producing stanzas
  const command = `npx tsx bench/results-series.ts --hours ${hours} --nodes ${nodeCount}`;
  recordFigures(
    [
      {
        figure: "results-series.worker_ns_per_stanza",
        value: worker.nsPerStanza,
        unit: "ns",
        command,
        what: `time series cost per stanza recorded, in a tight loop (no XMPP run), plus ${worker.encodeMsPerInterval} ms to encode each interval`,
      },
      {
        figure: "results-series.master_merge",
        value: master.msPerSecond,
        unit: "ms CPU per second",
        command,
        what: `master merging ${nodeCount} nodes' synthetic intervals each second (${master.bytesPerInterval} B per node interval)`,
      },
      {
        figure: "results-series.report_build",
        value: report.generateS,
        unit: "s",
        command,
        what: `HTML report of ${hours} h x ${nodeCount} nodes built from repeated synthetic intervals (${report.intervals}): build time, ${report.sizeMB} MB`,
      },
    ],
    loadBefore,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
