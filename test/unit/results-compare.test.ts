import { describe, expect, it } from "vitest";
import { splitResultsArgs } from "../../src/api/run/flags.js";
import { compareTables } from "../../src/results/compare.js";
import type { MetricStats } from "../../src/results/merge.js";

const timing = (p50: number, p95: number, p99: number, count = 100): MetricStats => ({
  kind: "timing",
  count,
  rate: count / 10,
  min: 0.1,
  mean: p50,
  p50,
  p90: p95,
  p95,
  p99,
  max: p99 * 2,
});

describe("runs compare", () => {
  it("shows each statistic of both runs with the change in %, marking slower latencies and more errors as regressions", () => {
    const a = {
      "xmpp.message_ttd": timing(10, 20, 40),
      "users.crashed": { kind: "counter", count: 0, rate: 0 },
      "xmpp.messages_sent": { kind: "counter", count: 1000, rate: 100 },
    } satisfies Record<string, MetricStats>;
    const b = {
      "xmpp.message_ttd": timing(10.5, 30, 40.5),
      "users.crashed": { kind: "counter", count: 3, rate: 0.3 },
      "xmpp.messages_sent": { kind: "counter", count: 800, rate: 80 },
    } satisfies Record<string, MetricStats>;
    const rows = compareTables(a, b);
    const ttd = rows.find((r) => r.metric === "xmpp.message_ttd");
    expect(ttd?.stats.p50).toEqual({ a: 10, b: 10.5, changePct: 5, regression: false });
    expect(ttd?.stats.p95).toEqual({ a: 20, b: 30, changePct: 50, regression: true });
    // +1.25 %: under the 10 % bar
    expect(ttd?.stats.p99?.regression).toBe(false);
    expect(rows.find((r) => r.metric === "users.crashed")?.stats.rate).toEqual({
      a: 0,
      b: 0.3,
      changePct: null,
      regression: true,
    });
    expect(rows.find((r) => r.metric === "xmpp.messages_sent")?.stats.count?.changePct).toBe(-20);
    expect(rows.filter((r) => r.regression).map((r) => r.metric)).toEqual(["users.crashed", "xmpp.message_ttd"]);
  });

  it("a metric present in one run only counts as 0 for counters and '-' for timings", () => {
    const rows = compareTables(
      {},
      { "xmpp.timeouts": { kind: "counter", count: 2, rate: 0.2 }, "xmpp.connection": timing(5, 6, 7) },
    );
    expect(rows.find((r) => r.metric === "xmpp.timeouts")?.stats.count).toMatchObject({
      a: 0,
      b: 2,
      regression: false,
    });
    expect(rows.find((r) => r.metric === "xmpp.connection")?.stats.p99).toMatchObject({
      a: null,
      b: 7,
      changePct: null,
    });
  });
});

describe("amoc run's results flags", () => {
  it("takes --threshold (repeatable), --report, --junit and --abort-on-fail out and leaves the rest for the run parser", () => {
    const { rest, results } = splitResultsArgs([
      "one_to_one",
      "--users",
      "10",
      "--threshold",
      "xmpp.message_ttd.p99<50",
      "--threshold=users.crashed==0",
      "--report",
      "/tmp/r.html",
      "--junit=/tmp/j.xml",
      "--abort-on-fail",
      "--repeat",
      "1",
    ]);
    expect(rest).toEqual(["one_to_one", "--users", "10", "--repeat", "1"]);
    expect(results.thresholds).toEqual(["xmpp.message_ttd.p99<50", "users.crashed==0"]);
    expect(results).toMatchObject({ reportPath: "/tmp/r.html", junitPath: "/tmp/j.xml", abortOnFail: true });
  });

  it("a bad threshold or a missing value is a usage error before anything runs", () => {
    expect(() => splitResultsArgs(["s", "--threshold", "p99 lt 5"])).toThrow(/invalid threshold 'p99 lt 5'/);
    expect(() => splitResultsArgs(["s", "--report"])).toThrow(/--report needs a value/);
    expect(() => splitResultsArgs(["s", "--abort-on-fail"])).toThrow(/needs at least one --threshold/);
  });
});
