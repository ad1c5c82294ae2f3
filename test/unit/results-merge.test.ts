import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { recordRun } from "../../src/results/recorder.js";
import { readRunResults } from "../../src/results/run-results.js";
import { RunStore } from "../../src/results/store.js";
import { IntervalAggregator } from "../../src/results/aggregator.js";
import { decodeInterval, encodeInterval, type EncodedInterval } from "../../src/results/interval.js";
import { mergeByTime, mergeIntervals, RunTotals } from "../../src/results/merge.js";
import { Telemetry } from "../../src/telemetry.js";

/** A deterministic pseudo-random source (LCG), so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The exact percentile as HDR defines it: the smallest value with at least p% of the values at or below it. */
function exactPercentile(sorted: number[], p: number): number {
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

interface FakeNode {
  telemetry: Telemetry;
  agg: IntervalAggregator;
}

/** Three nodes on one fake clock; each interval travels as a string, as it would to a master. */
function threeNodes(intervalMs: number, clock: { now: number }, wire: EncodedInterval[]): FakeNode[] {
  return ["n1", "n2", "n3"].map((node) => {
    const telemetry = new Telemetry();
    const agg = new IntervalAggregator({
      telemetry,
      node,
      intervalMs,
      manual: true,
      now: () => clock.now,
      onInterval: (i) => wire.push(decodeInterval(encodeInterval(i))),
    });
    return { telemetry, agg };
  });
}

describe("results: merged intervals tell the truth", () => {
  it("three nodes' merged p50, p99 and max equal the percentiles of all their raw timings within HDR precision, and counts add up exactly", () => {
    const clock = { now: 1_700_000_000_000 };
    const wire: EncodedInterval[] = [];
    const nodes = threeNodes(1000, clock, wire);
    const rand = rng(42);
    const raw: number[] = [];
    const perInterval = new Map<number, number[]>();
    let sent = 0;
    for (let step = 0; step < 50; step++) {
      // 10 intervals of 1 s, 5 steps each; each node records a different spread of timings
      clock.now += 200;
      for (const n of nodes) n.agg.tick();
      nodes.forEach((n, k) => {
        for (let j = 0; j < 40; j++) {
          const ms = Math.round((0.05 + rand() ** 3 * (k + 1) * 800) * 1000) / 1000; // 50 µs .. 2.4 s, skewed
          n.telemetry.emit("metric", { kind: "timing", name: "xmpp.message_ttd", value: ms });
          raw.push(ms);
          const slot = Math.floor(clock.now / 1000) * 1000;
          perInterval.set(slot, [...(perInterval.get(slot) ?? []), ms]);
          n.telemetry.emit("metric", { kind: "count", name: "xmpp.messages_sent", value: 1 });
          sent++;
        }
      });
    }
    for (const n of nodes) n.agg.close();

    const merged = mergeByTime(wire);
    const totals = new RunTotals();
    for (const m of merged) totals.add(m);
    const table = totals.table();
    const ttd = table["xmpp.message_ttd"];
    const count = table["xmpp.messages_sent"];
    if (ttd?.kind !== "timing" || count?.kind !== "counter") throw new Error("metrics missing from the table");

    const sorted = [...raw].sort((a, b) => a - b);
    const near = (got: number, want: number) => expect(Math.abs(got - want)).toBeLessThanOrEqual(want * 0.002 + 0.01);
    expect(ttd.count).toBe(raw.length);
    expect(count.count).toBe(sent);
    near(ttd.p50, exactPercentile(sorted, 50));
    near(ttd.p95, exactPercentile(sorted, 95));
    near(ttd.p99, exactPercentile(sorted, 99));
    near(ttd.max, sorted.at(-1) as number);
    near(ttd.min, sorted[0] as number);

    // per interval too: each merged interval's percentile is that of its own raw values
    for (const m of merged) {
      const vals = (perInterval.get(m.t) ?? []).sort((a, b) => a - b);
      const h = m.timings["xmpp.message_ttd"];
      expect(h?.totalCount ?? 0).toBe(vals.length);
      if (!h || !vals.length) continue;
      near(h.valueAtPercentile(99) / 1000, exactPercentile(vals, 99));
    }
    // every node sent every interval, intervals line up across nodes
    expect(new Set(merged.map((m) => m.nodes.length))).toEqual(new Set([3]));

    // the same through the recorder and the run store (merged rows, stored totals) as the report reads it
    const dir = mkdtempSync(join(tmpdir(), "amoc-truth-"));
    try {
      const rec = recordRun({
        node: "master",
        storePath: join(dir, "runs.sqlite"),
        intervalMs: 1000,
        scenario: "s",
        settings: {},
        users: 3,
        nodes: ["n1", "n2", "n3"],
      });
      for (const i of wire) rec.addInterval(i);
      rec.end({ summary: {}, exitCode: 0 });
      const store = RunStore.open(join(dir, "runs.sqlite"), { readonly: true });
      const res = readRunResults(store, rec.runId);
      store.close();
      expect(res.table["xmpp.message_ttd"]).toEqual(ttd);
      expect(res.table["xmpp.messages_sent"]).toEqual(count);
      expect(res.intervals.map((m) => m.stats["xmpp.message_ttd"]?.count ?? 0).reduce((a, b) => a + b, 0)).toBe(
        raw.length,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("averaging per-node p99s would be wrong: the merged p99 is dominated by the slow node", () => {
    const clock = { now: 1_700_000_000_000 };
    const wire: EncodedInterval[] = [];
    const nodes = threeNodes(1000, clock, wire);
    nodes.forEach((n, k) => {
      for (let j = 0; j < 1000; j++)
        n.telemetry.emit("metric", { kind: "timing", name: "t", value: k === 2 ? 100 + (j % 10) : 1 });
    });
    clock.now += 1000;
    for (const n of nodes) n.agg.close();
    const m = mergeIntervals(wire.filter((i) => i.t === 1_700_000_000_000));
    const p99 = (m.timings.t?.valueAtPercentile(99) ?? 0) / 1000;
    expect(p99).toBeGreaterThan(100);
    expect(m.timings.t?.totalCount).toBe(3000);
  });

  it("users running is a gauge per node and summed over nodes; crashes are counted by phase", () => {
    const clock = { now: 1_700_000_000_000 };
    const wire: EncodedInterval[] = [];
    const nodes = threeNodes(1000, clock, wire);
    nodes.forEach((n, k) => {
      for (let id = 1; id <= k + 1; id++) n.telemetry.emit("user.started", { id, lagMs: 1 });
    });
    nodes[0]?.telemetry.emit("user.crashed", {
      id: 1,
      phase: "connect",
      reason: "connect:refused",
      message: "refused",
    });
    clock.now += 1000;
    for (const n of nodes) n.agg.tick();
    const m = mergeIntervals(wire);
    expect(m.gauges["users.running"]).toBe(6);
    expect(m.nodeGauges.n3?.["users.running"]).toBe(3);
    expect(m.counters["users.started"]).toBe(6);
    expect(m.counters["users.crashed"]).toBe(1);
    expect(m.counters["users.crashed.connect"]).toBe(1);
  });

  it("an interval with no activity is still emitted, so the series has no holes, and gauges carry over", () => {
    const clock = { now: 1_700_000_000_500 };
    const out: EncodedInterval[] = [];
    const t = new Telemetry();
    const agg = new IntervalAggregator({
      telemetry: t,
      node: "n",
      intervalMs: 1000,
      manual: true,
      now: () => clock.now,
      onInterval: (i) => out.push(i),
    });
    t.emit("controller.users", { running: 4, started: 4, finished: 0, crashed: 0, removed: 0 });
    clock.now += 3000;
    agg.tick();
    expect(out.map((i) => i.t)).toEqual([1_700_000_000_000, 1_700_000_001_000, 1_700_000_002_000]);
    expect(out.map((i) => i.g["users.running"])).toEqual([4, 4, 4]);
    agg.close();
  });

  it("a malformed interval is refused with the reason", () => {
    expect(() => decodeInterval("{")).toThrow(/malformed interval/);
    expect(() =>
      decodeInterval(JSON.stringify({ v: 1, node: "n", t: 1, ms: 1000, c: { a: "x" }, g: {}, h: {} })),
    ).toThrow(/c\.a must be a number/);
  });
});
