import { afterEach, describe, expect, it, vi } from "vitest";
import { MetricsBridge } from "../../src/metrics/bridge.js";
import { TelemetryMetrics } from "../../src/metrics/metrics.js";
import { CORE_METRIC_NAMES, nodePrefix } from "../../src/metrics/names.js";
import { ProcessSampler } from "../../src/metrics/process-sampler.js";
import { Telemetry } from "../../src/telemetry.js";
import { MemorySink } from "../helpers/metrics.js";
import { testController } from "../helpers/node.js";
import { until } from "../helpers/wait.js";

function bridged(sampler?: ProcessSampler) {
  const telemetry = new Telemetry();
  const sink = new MemorySink();
  const bridge = new MetricsBridge({ telemetry, sink, sampler, gaugeIntervalMs: 60_000 });
  return { telemetry, sink, bridge };
}

describe("MetricsBridge", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("passes every metric event through under its own name and kind", () => {
    const { telemetry, sink, bridge } = bridged();
    const m = new TelemetryMetrics(telemetry);
    m.count("xmpp.messages_sent");
    m.count("my_scenario.things", 3);
    m.timing("xmpp.message_ttd", 12.5);
    m.gauge("my_scenario.queue", 7);
    expect(sink.calls).toEqual([
      { kind: "count", name: "xmpp.messages_sent", value: 1 },
      { kind: "count", name: "my_scenario.things", value: 3 },
      { kind: "timing", name: "xmpp.message_ttd", value: 12.5 },
      { kind: "gauge", name: "my_scenario.queue", value: 7 },
    ]);
    bridge.close();
  });

  it("counts users started, finished, removed and crashed, and tracks users running", () => {
    const { telemetry, sink, bridge } = bridged();
    for (const id of [1, 2, 3, 4]) telemetry.emit("user.started", { id, lagMs: 0.5 });
    telemetry.emit("user.stopped", { id: 1, reason: "finished" });
    telemetry.emit("user.crashed", {
      id: 2,
      phase: "login",
      reason: "login:not-authorized",
      message: "bad credentials",
    });
    telemetry.emit("user.stopped", { id: 2, reason: "crashed" });
    telemetry.emit("user.stopped", { id: 3, reason: "removed" });
    expect(sink.total("users.started")).toBe(4);
    expect(sink.total("users.finished")).toBe(1);
    expect(sink.total("users.crashed")).toBe(1);
    expect(sink.total("users.removed")).toBe(1);
    expect(sink.calls.filter((c) => c.name === "users.start_lag")).toHaveLength(4);
    expect(bridge.usersRunning).toBe(1);
    bridge.sendGauges();
    expect(sink.last("users.running")).toBe(1);
    // the controller's periodic count wins over the event count
    telemetry.emit("controller.users", { running: 9, started: 9, finished: 0, crashed: 0, removed: 0 });
    bridge.sendGauges();
    expect(sink.last("users.running")).toBe(9);
    bridge.close();
  });

  it("reports scenario init and terminate durations and failed inits", () => {
    const { telemetry, sink, bridge } = bridged();
    telemetry.emit("scenario.init", { scenario: "s", durationMs: 4, ok: false, message: "boom" });
    telemetry.emit("scenario.terminate", { scenario: "s", durationMs: 2, ok: true });
    expect(sink.calls).toEqual([
      { kind: "timing", name: "scenario.init", value: 4 },
      { kind: "count", name: "scenario.init_failures", value: 1 },
      { kind: "timing", name: "scenario.terminate", value: 2 },
    ]);
    bridge.close();
  });

  it("sends users running and the process gauges on every tick", async () => {
    const telemetry = new Telemetry();
    const sink = new MemorySink();
    const sampler = new ProcessSampler();
    const bridge = new MetricsBridge({ telemetry, sink, sampler, gaugeIntervalMs: 20 });
    await until(() => sink.calls.filter((c) => c.name === "users.running").length >= 3, 2000, "three gauge ticks");
    await until(() => sink.last("process.open_fds") !== undefined, 2000, "the fd count");
    bridge.close();
    sampler.close();
    expect(sink.last("users.running")).toBe(0);
    expect(sink.last("process.heap_used_bytes")).toBeGreaterThan(1e6);
    expect(sink.last("process.rss_bytes")).toBeGreaterThan(sink.last("process.heap_used_bytes")!);
    expect(sink.last("process.open_fds")).toBeGreaterThan(2);
    expect(sink.last("process.event_loop_lag_p99_ms")).toBeGreaterThanOrEqual(0);
  });

  it("sends users running on each change, at most every 100 ms, and always the last value", () => {
    vi.useFakeTimers();
    const { telemetry, sink, bridge } = bridged();
    const running = () => sink.calls.filter((c) => c.name === "users.running").map((c) => c.value);
    // a short run between two once-a-second ticks: five users up, then all down again within 300 ms
    for (const id of [1, 2, 3, 4, 5]) telemetry.emit("user.started", { id, lagMs: 0 });
    expect(running()).toEqual([1]);
    vi.advanceTimersByTime(100);
    expect(running()).toEqual([1, 5]);
    vi.advanceTimersByTime(50);
    for (const id of [1, 2, 3, 4, 5]) telemetry.emit("user.stopped", { id, reason: "finished" });
    expect(running()).toEqual([1, 5]);
    vi.advanceTimersByTime(50);
    expect(running()).toEqual([1, 5, 0]);
    // no change, nothing more sent
    vi.advanceTimersByTime(500);
    expect(running()).toEqual([1, 5, 0]);
    expect(Math.max(...running())).toBe(5);
    bridge.close();
  });

  it("sends a change of the controller's count too, and nothing after close", () => {
    vi.useFakeTimers();
    const { telemetry, sink, bridge } = bridged();
    telemetry.emit("controller.users", { running: 3, started: 3, finished: 0, crashed: 0, removed: 0 });
    expect(sink.last("users.running")).toBe(3);
    telemetry.emit("controller.users", { running: 4, started: 4, finished: 0, crashed: 0, removed: 0 });
    bridge.close();
    const n = sink.calls.length;
    vi.advanceTimersByTime(1000);
    expect(sink.calls.length).toBe(n);
    expect(sink.last("users.running")).toBe(4);
  });

  it("stops listening on close after one last gauge", () => {
    const { telemetry, sink, bridge } = bridged();
    telemetry.emit("user.started", { id: 1, lagMs: 0 });
    bridge.close();
    const n = sink.calls.length;
    expect(sink.last("users.running")).toBe(1);
    telemetry.emit("user.started", { id: 2, lagMs: 0 });
    new TelemetryMetrics(telemetry).count("late");
    expect(sink.calls.length).toBe(n);
  });

  it("sees a real run's users through the controller's telemetry", async () => {
    const { controller, telemetry } = testController();
    const sink = new MemorySink();
    const bridge = new MetricsBridge({ telemetry, sink, gaugeIntervalMs: 60_000 });
    await controller.do("lifecycle", 1, 20, { interarrival: 0, repeat_num: 1 });
    await controller.whenNoUsers();
    await controller.stop();
    bridge.close();
    expect(sink.total("users.started")).toBe(20);
    expect(sink.total("users.finished")).toBe(20);
    expect(sink.last("users.running")).toBe(0);
  });
});

describe("metric names", () => {
  it("put the prefix and node first and keep the node one Graphite path element", () => {
    expect(nodePrefix("amoc", "worker1")).toBe("amoc.worker1.");
    expect(nodePrefix("amoc", "host.example.com-42")).toBe("amoc.host_example_com-42.");
    expect(nodePrefix("load.test", "w 1")).toBe("load.test.w_1.");
  });

  it("are all distinct", () => {
    expect(new Set(CORE_METRIC_NAMES).size).toBe(CORE_METRIC_NAMES.length);
  });
});
