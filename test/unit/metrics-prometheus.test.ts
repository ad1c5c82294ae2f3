import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { TelemetryMetrics } from "../../src/metrics/metrics.js";
import {
  PrometheusMetrics,
  XMPP_BUCKETS,
  counterName,
  labelValue,
  promName,
  servePrometheus,
  timingName,
} from "../../src/metrics/prometheus.js";
import { Telemetry } from "../../src/telemetry.js";

const sample = () => ({
  eventLoopLagP99Ms: 4,
  eventLoopLagMaxMs: 9,
  cpuPct: 50,
  heapUsedBytes: 1000,
  rssBytes: 2000,
  openFds: 12,
});

function prom() {
  const telemetry = new Telemetry();
  const p = new PrometheusMetrics({ telemetry, nodeName: "w1", sampler: { sample } });
  return { telemetry, p, metrics: new TelemetryMetrics(telemetry) };
}

describe("Prometheus names", () => {
  it("prefixes amoc_, turns dots and other characters into underscores and collapses them", () => {
    expect(promName("xmpp.messages_sent")).toBe("amoc_xmpp_messages_sent");
    expect(promName("my-scenario..things!")).toBe("amoc_my_scenario_things");
    expect(counterName("xmpp.messages_sent")).toBe("amoc_xmpp_messages_sent_total");
    expect(timingName("xmpp.message_ttd")).toBe("amoc_xmpp_message_ttd_seconds");
  });

  it("never lets a value that looks like a user id into a label, and bounds label length", () => {
    expect(labelValue("user_1@localhost")).toBe("");
    expect(labelValue("chat")).toBe("chat");
    expect(labelValue(undefined)).toBe("");
    expect(labelValue("x".repeat(300))).toHaveLength(128);
  });

  it("uses buckets from half a millisecond to thirty seconds", () => {
    expect(XMPP_BUCKETS[0]).toBe(0.0005);
    expect(XMPP_BUCKETS.at(-1)).toBe(30);
  });
});

describe("PrometheusMetrics", () => {
  it("maps the telemetry events to amoc_ series in base units with node, scenario and run_id labels", async () => {
    const { telemetry, p, metrics } = prom();
    telemetry.emit("run.event", { kind: "do", data: { scenario: "chat", run_id: "r1" } });
    telemetry.emit("user.started", { id: 1, lagMs: 2 });
    telemetry.emit("user.started", { id: 2, lagMs: 2 });
    telemetry.emit("user.crashed", { id: 2, phase: "start", reason: "error", message: "boom" });
    telemetry.emit("user.stopped", { id: 2, reason: "crashed" });
    metrics.count("xmpp.messages_sent", 3);
    metrics.timing("xmpp.message_ttd", 3);
    const text = await p.metrics();
    const labels = 'node="w1",scenario="chat",run_id="r1"';
    expect(text).toContain(`amoc_users_running{${labels}} 1`);
    expect(text).toContain(`amoc_users_started_total{${labels}} 2`);
    expect(text).toContain(`amoc_users_crashed_by_reason_total{${labels},reason="start"} 1`);
    expect(text).toContain(`amoc_xmpp_messages_sent_total{${labels}} 3`);
    expect(text).toContain(`amoc_xmpp_message_ttd_seconds_bucket{le="0.005",${labels}} 1`);
    expect(text).toContain(`amoc_xmpp_message_ttd_seconds_bucket{le="0.0025",${labels}} 0`);
    expect(text).toContain('amoc_run_info{node="w1",run_id="r1",scenario="chat"} 1');
    expect(text).toContain('amoc_process_event_loop_lag_p99_seconds{node="w1"} 0.004');
    expect(text).not.toContain("@");
    p.close();
  });

  it("gives every series a HELP and a TYPE line", async () => {
    const { telemetry, p, metrics } = prom();
    telemetry.emit("user.started", { id: 1, lagMs: 2 });
    metrics.count("my_scenario.things");
    metrics.gauge("my_scenario.queue", 2);
    const text = await p.metrics();
    const families = new Set(
      text
        .split("\n")
        .filter((l) => l !== "" && !l.startsWith("#"))
        .map((l) => (l.split(/[{ ]/)[0] as string).replace(/_(bucket|sum|count)$/, "")),
    );
    expect(families.size).toBeGreaterThan(5);
    for (const f of families) {
      const base = text.includes(`# TYPE ${f} `) ? f : f.replace(/_(bucket|sum|count)$/, "");
      expect(text, f).toMatch(new RegExp(`# HELP ${base} `));
      expect(text, f).toMatch(new RegExp(`# TYPE ${base} `));
    }
    p.close();
  });

  it("stops following telemetry once closed", async () => {
    const { telemetry, p, metrics } = prom();
    p.close();
    metrics.count("xmpp.messages_sent");
    telemetry.emit("user.started", { id: 1, lagMs: 0 });
    expect(await p.metrics()).not.toContain("amoc_xmpp_messages_sent_total");
  });

  it("serves GET /metrics on its own port and nothing else", async () => {
    const { p } = prom();
    const log = createLogger({ level: "error", file: "", nodeName: "t" });
    const server = servePrometheus(p, 0, "127.0.0.1", log);
    await new Promise<void>((r) => (server.listening ? r() : server.once("listening", () => r())));
    const a = server.address();
    const port = typeof a === "object" && a ? a.port : 0;
    const ok = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toContain("text/plain");
    expect(await ok.text()).toContain("# TYPE amoc_users_running gauge");
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
    await new Promise<void>((r) => server.close(() => r()));
    p.close();
  });
});
