import { describe, expect, it } from "vitest";
import { MetricsBridge } from "../../src/metrics/bridge.js";
import * as names from "../../src/metrics/names.js";
import { PrometheusMetrics } from "../../src/metrics/prometheus.js";
import { IntervalAggregator } from "../../src/results/aggregator.js";
import type { EncodedInterval } from "../../src/results/interval.js";
import { Histogram } from "../../src/results/histogram.js";
import { Telemetry } from "../../src/telemetry.js";
import { MemorySink } from "../helpers/metrics.js";

/** One node's telemetry with all three consumers subscribed, and a short life of five users. */
function liveOfFiveUsers() {
  const telemetry = new Telemetry();
  const sink = new MemorySink();
  const bridge = new MetricsBridge({ telemetry, sink, gaugeIntervalMs: 60_000 });
  const prometheus = new PrometheusMetrics({ telemetry, nodeName: "n1" });
  const intervals: EncodedInterval[] = [];
  const aggregator = new IntervalAggregator({
    telemetry,
    node: "n1",
    intervalMs: 1000,
    onInterval: (i) => intervals.push(i),
    now: () => 0,
    manual: true,
  });
  for (let id = 1; id <= 5; id++) telemetry.emit("user.started", { id, lagMs: id });
  telemetry.emit("user.stopped", { id: 1, reason: "finished" });
  telemetry.emit("user.stopped", { id: 2, reason: "removed" });
  telemetry.emit("user.crashed", { id: 3, phase: "connect", reason: "connect:refused", message: "refused" });
  telemetry.emit("user.stopped", { id: 3, reason: "crashed" });
  telemetry.emit("scenario.init", { scenario: "s", durationMs: 4, ok: false, message: "x" });
  telemetry.emit("metric", { kind: "timing", name: "xmpp.message_ttd", value: 7 });
  bridge.close();
  aggregator.close();
  return { sink, prometheus, interval: intervals[0]! };
}

describe("the one mapping of telemetry to metrics", () => {
  it("gives StatsD, Prometheus and the run's intervals the same counts under the same names", async () => {
    const { sink, prometheus, interval } = liveOfFiveUsers();
    const statsdCount = (n: string) =>
      sink.calls.filter((c) => c.kind === "count" && c.name === n).reduce((a, c) => a + c.value, 0);
    const statsdTimings = (n: string) => sink.calls.filter((c) => c.kind === "timing" && c.name === n).length;
    const statsdRunning = sink.calls.filter((c) => c.kind === "gauge" && c.name === names.USERS_RUNNING).at(-1);
    // a histogram's values carry the series they belong to (`_bucket`, `_sum`, `_count`) in metricName
    type Value = { value: number; metricName?: string };
    const prom = (await prometheus.registry.getMetricsAsJSON()).map((m) => ({
      name: m.name,
      values: m.values as Value[],
    }));
    const promValue = (n: string) =>
      prom.find((m) => m.name === n)?.values.reduce((a, v) => a + (v.metricName?.endsWith("_sum") ? 0 : v.value), 0);
    const promHistogramCount = (n: string) =>
      prom.find((m) => m.name === n)?.values.find((v) => v.metricName?.endsWith("_count"))?.value;

    for (const [name, want] of [
      [names.USERS_STARTED, 5],
      [names.USERS_FINISHED, 1],
      [names.USERS_REMOVED, 1],
      [names.USERS_CRASHED, 1],
      [names.SCENARIO_INIT_FAILURES, 1],
    ] as const) {
      expect({ name, statsd: statsdCount(name) }).toEqual({ name, statsd: want });
      expect({ name, intervals: interval.c[name] }).toEqual({ name, intervals: want });
      expect({ name, prometheus: promValue(`amoc_${name.replace(".", "_")}_total`) }).toEqual({
        name,
        prometheus: want,
      });
    }
    for (const [name, want] of [
      [names.USERS_START_LAG, 5],
      [names.SCENARIO_INIT, 1],
      ["xmpp.message_ttd", 1],
    ] as const) {
      expect({ name, statsd: statsdTimings(name) }).toEqual({ name, statsd: want });
      expect({ name, intervals: Histogram.decode(interval.h[name]!).totalCount }).toEqual({ name, intervals: want });
      expect({ name, prometheus: promHistogramCount(`amoc_${name.replace(".", "_")}_seconds`) }).toEqual({
        name,
        prometheus: want,
      });
    }
    expect(statsdRunning?.value).toBe(2);
    expect(interval.g[names.USERS_RUNNING]).toBe(2);
    expect(promValue("amoc_users_running")).toBe(2);
  });

  it("labels a worker's Prometheus series with the cluster run it joined", async () => {
    const telemetry = new Telemetry();
    const prometheus = new PrometheusMetrics({ telemetry, nodeName: "w1" });
    telemetry.emit("run.joined", { run_id: "c0ffee12", scenario: "one_to_one" });
    telemetry.emit("user.started", { id: 1, lagMs: 0 });
    const text = await prometheus.metrics();
    expect(text).toContain('amoc_run_info{node="w1",run_id="c0ffee12",scenario="one_to_one"} 1');
    expect(text).toContain('amoc_users_started_total{node="w1",scenario="one_to_one",run_id="c0ffee12"} 1');
    prometheus.close();
  });
});
