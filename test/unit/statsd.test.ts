import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log.js";
import { MAX_PACKET_BYTES, StatsdSink } from "../../src/metrics/statsd.js";
import { recordingLogger, udpListener } from "../helpers/metrics.js";
import { until } from "../helpers/wait.js";

describe("StatsdSink", () => {
  it("sends prefixed StatsD lines: a counter's sum, a timer's values in ms, a gauge's last value", async () => {
    const udp = await udpListener();
    const sink = new StatsdSink({ host: "127.0.0.1", port: udp.port, prefix: "amoc.n1.", log: silentLogger() });
    sink.count("users.started");
    sink.count("xmpp.messages_sent", 3);
    sink.count("xmpp.messages_sent");
    sink.timing("xmpp.connection", 12.3456789);
    sink.timing("xmpp.connection", 7);
    sink.gauge("users.running", 41);
    sink.gauge("users.running", 42);
    await sink.close();
    await until(() => udp.lines().length >= 4, 2000, "four lines");
    expect(udp.lines()).toEqual([
      "amoc.n1.users.started:1|c",
      "amoc.n1.xmpp.messages_sent:4|c",
      "amoc.n1.xmpp.connection:12.346|ms:7|ms",
      "amoc.n1.users.running:42|g",
    ]);
    await udp.close();
  });

  it("sends what it collected every flush interval without waiting for close", async () => {
    const udp = await udpListener();
    const sink = new StatsdSink({
      host: "127.0.0.1",
      port: udp.port,
      prefix: "p.n.",
      log: silentLogger(),
      bufferFlushMs: 20,
    });
    sink.count("c");
    await until(() => udp.lines().length === 1, 2000, "the first flush");
    sink.count("c", 2);
    await until(() => udp.lines().length === 2, 2000, "the second flush");
    expect(udp.lines()).toEqual(["p.n.c:1|c", "p.n.c:2|c"]);
    await sink.close();
    await udp.close();
  });

  it("packs many timings into lines and packets no bigger than 1400 bytes, losing none", async () => {
    const udp = await udpListener();
    const sink = new StatsdSink({ host: "127.0.0.1", port: udp.port, prefix: "amoc.n1.", log: silentLogger() });
    for (let i = 0; i < 5000; i++) {
      sink.count("xmpp.messages_sent");
      sink.timing("xmpp.message_ttd", (i % 500) + 0.125);
      sink.timing("other.timer", i);
    }
    await sink.close();
    const valuesOf = (name: string) =>
      udp
        .lines()
        .filter((l) => l.startsWith(`amoc.n1.${name}:`))
        .flatMap((l) => l.slice(l.indexOf(":") + 1).split(":"));
    await until(() => valuesOf("other.timer").length >= 5000, 3000, "5000 timings");
    const ttd = valuesOf("xmpp.message_ttd");
    expect(ttd).toHaveLength(5000);
    for (const v of ttd) expect(v).toMatch(/^\d+(\.\d+)?\|ms$/);
    expect(ttd.map((v) => Number(v.split("|")[0])).reduce((a, b) => a + b, 0)).toBeCloseTo(
      5000 * 0.125 + 10 * ((499 * 500) / 2),
      3,
    );
    expect(valuesOf("other.timer")).toHaveLength(5000);
    expect(udp.lines().filter((l) => l.startsWith("amoc.n1.xmpp.messages_sent:"))).toEqual([
      "amoc.n1.xmpp.messages_sent:5000|c",
    ]);
    for (const p of udp.packets) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(MAX_PACKET_BYTES);
    expect(udp.packets.length).toBeLessThan(100);
    await udp.close();
  });

  it("sends a negative gauge as a reset to 0 then the value, and drops values that are not finite", async () => {
    const udp = await udpListener();
    const sink = new StatsdSink({ host: "127.0.0.1", port: udp.port, prefix: "p.n.", log: silentLogger() });
    sink.gauge("g", -5);
    sink.timing("t", NaN);
    sink.count("c", Infinity);
    await sink.close();
    await until(() => udp.lines().length >= 2, 2000, "two lines");
    expect(udp.lines()).toEqual(["p.n.g:0|g", "p.n.g:-5|g"]);
    await udp.close();
  });

  it("resolves a host name once and sends to it", async () => {
    const udp = await udpListener();
    const sink = new StatsdSink({
      host: "localhost",
      port: udp.port,
      prefix: "p.n.",
      log: silentLogger(),
      bufferFlushMs: 10,
    });
    sink.count("a");
    await until(() => udp.lines().length === 1, 2000, "the first packet");
    sink.count("b");
    await sink.close();
    await until(() => udp.lines().length === 2, 2000, "the second packet");
    expect(udp.lines()).toEqual(["p.n.a:1|c", "p.n.b:1|c"]);
    await udp.close();
  });

  it("never throws when no daemon listens on the port, and closes without waiting out its close timeout", async () => {
    const udp = await udpListener();
    const port = udp.port;
    await udp.close(); // nothing listens there any more
    const { log, lines } = recordingLogger();
    const sink = new StatsdSink({ host: "127.0.0.1", port, prefix: "amoc.n1.", log });
    expect(() => {
      for (let i = 0; i < 100_000; i++) {
        sink.count("xmpp.messages_sent");
        sink.timing("xmpp.message_ttd", i % 100);
      }
    }).not.toThrow();
    await sink.close();
    // close resolved through the client's callback, not through its 2 s give-up timer
    expect(lines.filter((l) => l.msg === "statsd_close_timeout")).toEqual([]);
  });

  it("logs an unresolvable host at most once per interval and keeps going", async () => {
    const { log, lines } = recordingLogger();
    const sink = new StatsdSink({
      host: "no-such-host.invalid",
      port: 8125,
      prefix: "amoc.n1.",
      log,
      bufferFlushMs: 10,
    });
    // three flushes, each failing: wait for each failure before sending more
    for (let round = 1; round <= 3; round++) {
      for (let i = 0; i < 200; i++) sink.count("xmpp.messages_sent");
      await until(() => sink.failures >= round, 5000, `send failure ${round}`);
    }
    await sink.close();
    const warned = lines.filter((l) => l.msg === "statsd_send_failed");
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ host: "no-such-host.invalid", port: 8125 });
  });
});
