import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { Histogram } from "../../src/results/histogram.js";
import type { EncodedInterval } from "../../src/results/interval.js";
import { RunTotals, mergeIntervals } from "../../src/results/merge.js";
import { recordRun } from "../../src/results/recorder.js";
import { parseThreshold, parseThresholds } from "../../src/results/thresholds.js";
import { WindowJudge } from "../../src/results/window.js";

const T0 = Date.UTC(2026, 11, 4, 12, 0, 0);

/** One node's 1 s interval: 100 connections of 5 ms, `slow` of them 2000 ms instead. */
function interval(s: number, slow = 0): EncodedInterval {
  const h = new Histogram();
  for (let i = 0; i < 100; i++) h.recordMs(i < slow ? 2000 : 5);
  return {
    v: 1,
    node: "n1",
    t: T0 + s * 1000,
    ms: 1000,
    c: { "xmpp.connections": 100 },
    g: {},
    h: { "xmpp.connection": h.encode() },
  };
}

/** 70 s whose connection p99 is bad only during a 10 s burst (s 30-39: 5 % slow; 0.8 % of any 60 s). */
const burstRun = () => Array.from({ length: 70 }, (_, s) => interval(s, s >= 30 && s < 40 ? 5 : 0));

describe("windowed thresholds", () => {
  it("parse 'over DURATION' and 'abort', alone or together", () => {
    expect(parseThreshold("xmpp.connection.p99<1000 over 30s")).toMatchObject({
      metric: "xmpp.connection",
      stat: "p99",
      value: 1000,
      windowMs: 30_000,
      expr: "xmpp.connection.p99<1000 over 30s",
    });
    expect(parseThreshold("users.crashed==0 abort")).toMatchObject({ metric: "users.crashed", abort: true });
    expect(parseThreshold("xmpp.connection.p99 < 1000 over 2m abort")).toMatchObject({
      windowMs: 120_000,
      abort: true,
    });
    expect(parseThreshold("xmpp.connection.p99<1000").windowMs).toBeUndefined();
    expect(() => parseThreshold("xmpp.connection.p99<1000 over soon")).toThrow(UsageError);
    expect(() => parseThreshold("xmpp.connection.p99<1000 over 0s")).toThrow(/not a duration/);
  });

  it("a p99 bad only during a 10 s burst fails 'over 10s' and passes 'over 60s' (merged window histograms)", () => {
    const [w10, w60, whole] = parseThresholds([
      "xmpp.connection.p99<1000 over 10s",
      "xmpp.connection.p99<1000 over 60s",
      "xmpp.connection.p99<1000",
    ]) as [never, never, never];
    const judge = new WindowJudge([w10, w60]);
    const totals = new RunTotals();
    const firstBreaches: string[] = [];
    for (const i of burstRun()) {
      const m = mergeIntervals([i]);
      totals.add(m);
      for (const b of judge.add(m)) firstBreaches.push(b.expr);
    }
    const [r10, r60] = judge.results(totals);
    expect(r10).toMatchObject({ ok: false, status: "breached" });
    expect(r10?.actual).toBeGreaterThan(1000);
    expect(r10?.message).toMatch(/10 s window ending \+\d+ s/);
    expect(r60).toMatchObject({ ok: true, status: "ok" });
    expect(r60?.actual).toBeLessThan(1000);
    expect(firstBreaches).toEqual(["xmpp.connection.p99<1000 over 10s"]);
    // averaging the per-second p99s of a 60 s window would say 10 s of 2000 ms: > 300 ms, not what the window holds
    expect(new WindowJudge([whole]).results(totals)[0]?.ok).toBe(true);
  });

  it("a run shorter than the window is judged on everything it recorded", () => {
    const judge = new WindowJudge(parseThresholds(["xmpp.connection.p99<1000 over 60s"]));
    const totals = new RunTotals();
    for (let s = 0; s < 5; s++) {
      const m = mergeIntervals([interval(s, 50)]);
      totals.add(m);
      expect(judge.add(m)).toEqual([]);
    }
    expect(judge.results(totals)[0]).toMatchObject({ ok: false, message: expect.stringMatching(/shorter than 60 s/) });
  });
});

describe("abort on a threshold's breach", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const record = (thresholds: string[]) => {
    dir = mkdtempSync(join(tmpdir(), "amoc-window-"));
    let now = T0;
    const aborts: string[][] = [];
    const rec = recordRun({
      node: "n1",
      storePath: join(dir, "runs.sqlite"),
      intervalMs: 1000,
      scenario: "s",
      settings: {},
      users: 1,
      nodes: ["n1"],
      thresholds: parseThresholds(thresholds),
      now: () => now,
      onAbort: (b) => aborts.push(b.map((x) => x.expr)),
    });
    const feed = (i: EncodedInterval) => {
      now = i.t + i.ms;
      rec.addInterval(i);
    };
    return { rec, aborts, feed };
  };

  it("'abort' on a windowed threshold stops the run at the interval whose window breaches, not before", () => {
    const { rec, aborts, feed } = record(["xmpp.connection.p99<1000 over 10s abort", "users.crashed==0"]);
    const run = burstRun();
    let abortedAt = -1;
    for (const [s, i] of run.entries()) {
      feed(i);
      if (aborts.length && abortedAt < 0) abortedAt = s;
    }
    // intervals are merged when the next one arrives (or 2 intervals late): the burst's first second is s 30
    expect(abortedAt).toBeGreaterThanOrEqual(30);
    expect(abortedAt).toBeLessThanOrEqual(32);
    expect(aborts).toEqual([["xmpp.connection.p99<1000 over 10s abort"]]);
    const end = rec.end({ summary: {}, exitCode: 1 });
    expect(end).toMatchObject({ verdict: "breached", exitCode: 3 });
  });

  it("a threshold without 'abort' (and no --abort-on-fail) never stops the run", () => {
    const { rec, aborts, feed } = record(["xmpp.connection.p99<1000 over 10s"]);
    for (const i of burstRun()) feed(i);
    expect(aborts).toEqual([]);
    expect(rec.end({ summary: {}, exitCode: 0 })).toMatchObject({ verdict: "breached", exitCode: 3 });
  });
});
