import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { junitXml } from "../../src/results/junit.js";
import type { MetricStats } from "../../src/results/merge.js";
import { verdictOf } from "../../src/results/recorder.js";
import { evaluateThresholds, parseThreshold, parseThresholds } from "../../src/results/thresholds.js";

const TABLE: Record<string, MetricStats> = {
  "xmpp.message_ttd": {
    kind: "timing",
    count: 100,
    rate: 10,
    min: 1,
    mean: 5,
    p50: 4,
    p90: 9,
    p95: 12,
    p99: 40,
    max: 80,
  },
  "xmpp.connection": {
    kind: "timing",
    count: 10,
    rate: 1,
    min: 5,
    mean: 50,
    p50: 40,
    p90: 150,
    p95: 200,
    p99: 300,
    max: 310,
  },
  "users.crashed": { kind: "counter", count: 2, rate: 0.2 },
  "users.running": { kind: "gauge", last: 0, min: 0, max: 200 },
};

describe("thresholds", () => {
  it("parses metric, statistic, operator and number", () => {
    expect(parseThreshold("xmpp.message_ttd.p99<50")).toEqual({
      expr: "xmpp.message_ttd.p99<50",
      metric: "xmpp.message_ttd",
      stat: "p99",
      op: "<",
      value: 50,
    });
    expect(parseThreshold(" users.crashed == 0 ")).toMatchObject({
      metric: "users.crashed",
      stat: "value",
      op: "==",
      value: 0,
    });
    expect(parseThreshold("xmpp.connection.p95<=200")).toMatchObject({
      metric: "xmpp.connection",
      stat: "p95",
      op: "<=",
    });
    expect(parseThreshold("xmpp.message_ttd.p99.9<0.001")).toMatchObject({
      metric: "xmpp.message_ttd",
      stat: "p99.9",
      value: 0.001,
    });
    expect(parseThreshold("a.avg!=3")).toMatchObject({ stat: "mean", op: "!=" });
  });

  it.each([
    ["xmpp.message_ttd.p99", /no comparison operator/],
    ["xmpp.message_ttd.p99=<50", /unknown operator '=<'/],
    ["xmpp.message_ttd.p99<fast", /'fast' is not a number/],
    ["xmpp..p99<5", /not a metric name/],
    ["x.p101<5", /percentile 101 is above 100/],
  ])("refuses '%s' with a usage error that says why", (expr, why) => {
    let err: unknown;
    try {
      parseThreshold(expr);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(why);
    expect((err as UsageError).hint).toMatch(/METRIC\.STAT OP NUMBER/);
  });

  it("reports every bad expression at once", () => {
    expect(() => parseThresholds(["a<1", "b", "c<x"])).toThrow(/'b'[\s\S]*'c<x'/);
  });

  it("evaluates on the merged table: breaches say the measured and the wanted value", () => {
    const r = evaluateThresholds(
      parseThresholds([
        "xmpp.message_ttd.p99<50",
        "xmpp.message_ttd.p99<0.001",
        "users.crashed==0",
        "xmpp.connection.p95<=200",
        "users.running.max>=200",
        "users.started.count>=0",
        "xmpp.message_ttd.p75<10",
      ]),
      TABLE,
      (m, p) => (m === "xmpp.message_ttd" && p === 75 ? 7 : undefined),
    );
    expect(r.map((x) => x.ok)).toEqual([true, false, false, true, true, true, true]);
    expect(r[1]?.message).toBe("xmpp.message_ttd.p99 was 40, wanted < 0.001");
    expect(r[2]?.message).toBe("users.crashed was 2, wanted == 0");
  });

  it("a built-in counter never incremented is 0; a timing never recorded is 'no such metric', not a pass", () => {
    const r = evaluateThresholds(
      parseThresholds(["xmpp.timeouts==0", "xmpp.registration.p99<5", "xmpp.connection<5"]),
      TABLE,
    );
    expect(r.map((x) => [x.ok, x.status, x.actual])).toEqual([
      [true, "ok", 0],
      [false, "no_metric", null],
      [false, "breached", null],
    ]);
    expect(r[1]?.message).toBe("no such metric: xmpp.registration");
    expect(r[2]?.message).toMatch(/name one/);
  });

  it("a threshold on a metric the run never recorded names the nearest recorded one and fails the run", () => {
    const table = { ...TABLE, "muc.echo_rtt": TABLE["xmpp.connection"] as MetricStats };
    const r = evaluateThresholds(parseThresholds(["muc.echo_rt.p99<5", "muc.errors==0"]), table);
    expect(r.map((x) => [x.ok, x.status])).toEqual([
      [false, "no_metric"],
      [false, "no_metric"],
    ]);
    expect(r[0]?.message).toBe("no such metric: muc.echo_rt; did you mean muc.echo_rtt?");
    expect(verdictOf(0, r)).toEqual({ verdict: "breached", exitCode: 3 });
  });

  it("a typo of a built-in metric name is refused at parse time, before anything starts", () => {
    expect(() => parseThreshold("users.crashd==0")).toThrow(
      /no such metric: users\.crashd; did you mean users\.crashed\?/,
    );
    expect(() => parseThreshold("xmpp.mesage_ttd.p99<50")).toThrow(/did you mean xmpp\.message_ttd\?/);
    expect(() => parseThreshold("xmpp.connections_lost==0")).not.toThrow();
    expect(() => parseThreshold("muc.echo_rtt.p99<50")).not.toThrow();
  });

  it("a threshold that names only a statistic ('p99 < 5') is refused at parse time", () => {
    for (const e of ["p99 < 5", "count>0", "mean<3"]) {
      const err = (() => {
        try {
          parseThreshold(e);
        } catch (x) {
          return x;
        }
      })();
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(/names no metric/);
    }
  });

  it("a breach exits 3, above crashed users; usage errors and signals keep their code", () => {
    const breach = evaluateThresholds(parseThresholds(["users.crashed==0"]), TABLE);
    expect(verdictOf(0, breach)).toEqual({ verdict: "breached", exitCode: 3 });
    expect(verdictOf(1, breach)).toEqual({ verdict: "breached", exitCode: 3 });
    expect(verdictOf(130, breach)).toEqual({ verdict: "breached", exitCode: 130 });
    expect(verdictOf(1, [])).toEqual({ verdict: "failed", exitCode: 1 });
    expect(verdictOf(0, [])).toEqual({ verdict: "passed", exitCode: 0 });
  });

  it("JUnit XML has one test case per threshold and a failure for each breach", () => {
    const results = evaluateThresholds(parseThresholds(["xmpp.message_ttd.p99<50", "users.crashed==0"]), TABLE);
    const xml = junitXml({ scenario: "one_to_one", runId: "r1", durationS: 12.5, results });
    expect(xml.match(/<testcase /g)).toHaveLength(2);
    expect(xml.match(/<failure /g)).toHaveLength(1);
    expect(xml).toContain('name="xmpp.message_ttd.p99&lt;50"');
    expect(xml).toContain('tests="2" failures="1"');
  });
});
