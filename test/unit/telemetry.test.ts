import { describe, expect, it } from "vitest";
import { MetricsBridge } from "../../src/metrics/bridge.js";
import { SUBSCRIBER_FAILURES_METRIC, Telemetry } from "../../src/telemetry.js";
import { MemorySink, recordingLogger } from "../helpers/metrics.js";
import { testController } from "../helpers/node.js";

describe("Telemetry", () => {
  it("delivers an event to every subscriber even when one of them throws, and never throws to the emitter", () => {
    const { log } = recordingLogger();
    const t = new Telemetry({ log });
    const seen: number[] = [];
    t.on("user.started", (e) => seen.push(e.id), "first");
    t.on(
      "user.started",
      () => {
        throw new Error("boom");
      },
      "broken",
    );
    t.on("user.started", (e) => seen.push(-e.id), "last");
    expect(() => t.emit("user.started", { id: 7, lagMs: 0 })).not.toThrow();
    expect(seen).toEqual([7, -7]);
  });

  it("logs a throwing subscriber once with the event and the subscriber, and counts every failure", () => {
    const { log, lines } = recordingLogger();
    const t = new Telemetry({ log });
    t.on("user.crashed", function summaryCollector() {
      throw new TypeError("cannot read phase");
    });
    for (let i = 0; i < 5; i++)
      t.emit("user.crashed", { id: i, phase: "login", reason: "login:error: x", message: "x" });
    const warned = lines.filter((l) => l.msg === "telemetry_subscriber_failed");
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({
      event: "user.crashed",
      subscriber: "summaryCollector",
      err: "cannot read phase",
    });
    expect(t.subscriberFailures).toBe(5);
    expect(t.failures()).toEqual([
      { event: "user.crashed", subscriber: "summaryCollector", count: 5, message: "cannot read phase" },
    ]);
  });

  it("counts subscriber failures as the telemetry.subscriber_failures metric the bridge sends", () => {
    const { log } = recordingLogger();
    const t = new Telemetry({ log });
    const sink = new MemorySink();
    const bridge = new MetricsBridge({ telemetry: t, sink, gaugeIntervalMs: 60_000 });
    t.on(
      "scenario.init",
      () => {
        throw new Error("bad");
      },
      "broken",
    );
    t.emit("scenario.init", { scenario: "s", durationMs: 1, ok: true });
    t.emit("scenario.init", { scenario: "s", durationMs: 1, ok: true });
    expect(sink.total(SUBSCRIBER_FAILURES_METRIC)).toBe(2);
    bridge.close();
  });

  it("survives a metric subscriber that throws on every metric, its own failure report included", () => {
    const { log, lines } = recordingLogger();
    const t = new Telemetry({ log });
    let calls = 0;
    t.on(
      "metric",
      () => {
        calls++;
        throw new Error("sink broken");
      },
      "bad-sink",
    );
    t.emit("metric", { kind: "count", name: "x", value: 1 });
    // the failure report is itself a metric event: delivered once, its failure counted, no recursion
    expect(calls).toBe(2);
    expect(t.subscriberFailures).toBe(2);
    expect(lines.filter((l) => l.msg === "telemetry_subscriber_failed")).toHaveLength(1);
  });

  it("keeps delivering to the remaining subscribers when one unsubscribes during an emit", () => {
    const t = new Telemetry();
    const seen: string[] = [];
    const offA = t.on("user.started", () => {
      seen.push("a");
      offA();
    });
    t.on("user.started", () => seen.push("b"));
    t.emit("user.started", { id: 1, lagMs: 0 });
    t.emit("user.started", { id: 2, lagMs: 0 });
    expect(seen).toEqual(["a", "b", "b"]);
  });
});

describe("a node's status", () => {
  it("shows how many times telemetry subscribers threw, and the run goes on", async () => {
    const { controller, telemetry } = testController();
    telemetry.on(
      "user.started",
      () => {
        throw new Error("subscriber bug");
      },
      "broken",
    );
    expect(controller.status().telemetry_failures).toBe(0);
    await controller.do("lifecycle", 1, 3, { interarrival: 0, repeat_num: 1 });
    await controller.whenNoUsers();
    const s = controller.status();
    expect(s.users.finished).toBe(3);
    expect(s.telemetry_failures).toBe(3);
    await controller.stop();
  });
});
