import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { loadNodeSettings } from "../../src/config/load.js";
import { AmocError } from "../../src/errors.js";
import { silentLogger } from "../../src/log.js";
import { GraphiteAnnotations, annotationBody, describeRunEvent } from "../../src/metrics/annotations.js";
import { startReporting } from "../../src/metrics/reporting.js";
import { Telemetry } from "../../src/telemetry.js";
import { recordingLogger } from "../helpers/metrics.js";
import { until } from "../helpers/wait.js";

/** A stand-in for graphite-web's events API on a random loopback port. */
async function eventsServer(handler?: (req: IncomingMessage, res: ServerResponse) => void) {
  const bodies: Array<Record<string, unknown>> = [];
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (d: Buffer) => (raw += d.toString()));
    req.on("end", () => {
      bodies.push(JSON.parse(raw) as Record<string, unknown>);
      if (handler) handler(req, res);
      else res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events/`;
  return {
    url,
    bodies,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe("annotations", () => {
  it("describe each run event with its scenario, user range, counts and comment", () => {
    expect(
      describeRunEvent(
        { kind: "do", data: { scenario: "one_to_one", from: 1, to: 50, users: 50, comment: "baseline" } },
        "w1",
      ),
    ).toBe("amoc do one_to_one: users 1..50 (50) on w1 - baseline");
    expect(
      describeRunEvent({ kind: "add", data: { scenario: "s", from: 51, to: 60, users: 10, nodes: ["w1", "w2"] } }, "m"),
    ).toBe("amoc add s: users 51..60 (10) on w1,w2");
    expect(
      describeRunEvent({ kind: "remove", data: { scenario: "s", requested: 5, removed: 4, force: true } }, "w1"),
    ).toBe("amoc remove s: 4 of 5 users removed (forced) on w1");
    expect(
      describeRunEvent(
        { kind: "stop", data: { scenario: "s", started: 10, finished: 8, crashed: 1, removed: 1, running: 0 } },
        "w1",
      ),
    ).toBe("amoc stop s: stopped: 10 started, 8 finished, 1 crashed, 1 removed on w1");
    expect(describeRunEvent({ kind: "settings", data: { scenario: "s", message_interval: 500 } }, "w1")).toBe(
      "amoc settings s: message_interval=500 on w1",
    );
    expect(describeRunEvent({ kind: "node_down", data: { node: "w3" } }, "m")).toBe("amoc node down: w3");
    // as the cluster master reports them
    expect(
      describeRunEvent(
        { kind: "do", data: { scenario: "s", from: 1, to: 100, users: 100, workers: 3, comment: undefined } },
        "m",
      ),
    ).toBe("amoc do s: users 1..100 (100) over 3 workers on m");
    expect(describeRunEvent({ kind: "node_down", data: { node: "w2", redealt: 40, to: ["w1"] } }, "m")).toBe(
      "amoc node down: w2, 40 users re-dealt",
    );
    expect(describeRunEvent({ kind: "node_up", data: { node: "w4", labels: {} } }, "m")).toBe("amoc node up: w4");
  });

  it("post {what, tags: [amoc, kind], when, data} for every run event", async () => {
    const srv = await eventsServer();
    const telemetry = new Telemetry();
    const a = new GraphiteAnnotations({ telemetry, url: srv.url, nodeName: "w1", log: silentLogger() });
    const beforeS = Math.floor(Date.now() / 1000);
    telemetry.emit("run.event", { kind: "do", data: { scenario: "s", from: 1, to: 2, users: 2 } });
    telemetry.emit("run.event", {
      kind: "stop",
      data: { scenario: "s", started: 2, finished: 2, crashed: 0, removed: 0 },
    });
    const afterS = Math.ceil(Date.now() / 1000);
    await a.close();
    expect(a.delivered).toBe(2);
    expect(srv.bodies.map((b) => b.tags)).toEqual([
      ["amoc", "do"],
      ["amoc", "stop"],
    ]);
    expect(srv.bodies[0]).toMatchObject({ what: "amoc do s: users 1..2 (2) on w1" });
    expect(JSON.parse(srv.bodies[0]!.data as string)).toEqual({
      kind: "do",
      reported_by: "w1",
      scenario: "s",
      from: 1,
      to: 2,
      users: 2,
    });
    // `when` is the emit instant in epoch seconds
    expect(srv.bodies[0]!.when).toBeGreaterThanOrEqual(beforeS);
    expect(srv.bodies[0]!.when).toBeLessThanOrEqual(afterS);
    await srv.close();
  });

  it("log a refused, failing or hanging events API without throwing, and close once the request timeout fires", async () => {
    const { log, lines } = recordingLogger();
    const telemetry = new Telemetry();
    const hanging = await eventsServer(() => {}); // never answers
    const failing = await eventsServer((_req, res) => res.writeHead(500).end("boom"));
    const refused = await eventsServer();
    await refused.close();
    const all = [hanging, failing, refused].map(
      (s) => new GraphiteAnnotations({ telemetry, url: s.url, nodeName: "w1", log, timeoutMs: 300 }),
    );
    telemetry.emit("run.event", { kind: "do", data: { scenario: "s", from: 1, to: 1, users: 1 } });
    // close waits for the posts in flight: it returns because the hanging one timed out, which its log line says
    await Promise.all(all.map((a) => a.close()));
    const failed = lines.filter((l) => l.msg === "annotation_failed");
    expect(failed).toHaveLength(3);
    expect(failed.map((l) => l.err).join("\n")).toMatch(
      /timed out after 300 ms[\s\S]*HTTP 500: boom|HTTP 500: boom[\s\S]*timed out after 300 ms/,
    );
    expect(lines.filter((l) => l.msg === "annotation")).toHaveLength(3);
    await hanging.close();
    await failing.close();
  });

  it("build a body whose tags graphite-web can store (no spaces)", () => {
    const b = annotationBody({ kind: "node_up", data: { node: "w 2" } }, "m", 1_000_000);
    expect(b.when).toBe(1000);
    for (const t of b.tags) expect(t).not.toMatch(/\s/);
  });
});

describe("startReporting", () => {
  it("builds nothing when statsd_host and graphite_events_url are empty", async () => {
    const r = startReporting(loadNodeSettings({ env: {} }), new Telemetry(), silentLogger());
    expect(r.bridge).toBeUndefined();
    expect(r.annotations).toBeUndefined();
    await r.close();
  });

  it("refuses a graphite_events_url that is not an http URL, naming the variable", () => {
    try {
      // the settings loader may refuse it first; either way it never reaches a POST
      startReporting(
        loadNodeSettings({ env: { AMOC_GRAPHITE_EVENTS_URL: "127.0.0.1:8080/events" } }),
        new Telemetry(),
        silentLogger(),
      );
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(AmocError);
      expect((e as AmocError).code).toBe("CONFIG_INVALID");
      expect((e as AmocError).message).toMatch(/AMOC_GRAPHITE_EVENTS_URL\b.*http/);
    }
  });

  it("builds the bridge and the annotations when both are configured, and closes them", async () => {
    const srv = await eventsServer();
    const settings = loadNodeSettings({
      env: {
        AMOC_STATSD_HOST: "127.0.0.1",
        AMOC_STATSD_PORT: "9",
        AMOC_GRAPHITE_EVENTS_URL: srv.url,
        AMOC_NODE_NAME: "n1",
      },
    });
    const telemetry = new Telemetry();
    const r = startReporting(settings, telemetry, silentLogger());
    expect(r.bridge).toBeDefined();
    telemetry.emit("run.event", { kind: "do", data: { scenario: "s", from: 1, to: 1, users: 1 } });
    await r.close();
    await until(() => srv.bodies.length === 1, 1000, "one annotation");
    await srv.close();
  });
});
