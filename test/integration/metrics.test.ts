import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { parseRunArgs, runLocal } from "../../src/api/run-command.js";
import { createNode } from "../../src/main.js";
import type { CounterSummary } from "../../src/metrics/summary.js";
import { GRAPHITE_WEB, events, poll, render, values } from "../helpers/graphite.js";

// unique per test run, so data of an earlier run can never satisfy the assertions
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const PREFIX = `amoctest${RUN_ID}`;
const NODE = `it-${RUN_ID}`;
const WHISPER = new URL("../../.run/graphite/storage/whisper/stats", import.meta.url).pathname;

// every run writes ~100 MB of whisper files under its unique prefix: remove them once the assertions are done
afterAll(() => {
  for (const kind of ["counters", "gauges", "timers"]) rmSync(`${WHISPER}/${kind}/${PREFIX}`, { recursive: true, force: true });
});
const USERS = 20;

describe("metrics through StatsD to Graphite", () => {
  it("a one_to_one run leaves its users gauge, its message counter and its do/stop annotations in graphite-web", async () => {
    const node = createNode({
      env: {
        ...process.env,
        AMOC_STATSD_HOST: "127.0.0.1",
        AMOC_STATSD_PORT: "8125",
        AMOC_GRAPHITE_EVENTS_URL: `${GRAPHITE_WEB}/events/`,
        AMOC_NODE_NAME: NODE,
        AMOC_METRICS_PREFIX: PREFIX,
        AMOC_XMPP_SERVERS: "xmpp://127.0.0.1:5222",
        AMOC_LOG_LEVEL: "warn",
      },
    });
    let sent: number;
    try {
      // users linger 3 s so the once-a-second gauge sees all of them online together
      const opts = parseRunArgs(["one_to_one", "--users", String(USERS), "--interarrival", "10", "--repeat", "1", "--set", "linger_ms=3000", "--set", "message_interval=50"]);
      const { summary, exitCode } = await runLocal(node, opts, undefined);
      expect(exitCode).toBe(0);
      sent = (summary.metrics["xmpp.messages_sent"] as CounterSummary).count;
      expect(sent).toBe(USERS * 5);
    } finally {
      await node.close();
    }

    const base = `${PREFIX}.${NODE}`;
    // StatsD flushes every second and carbon answers from its cache: a few seconds at most
    const peak = await poll(async () => {
      const v = values(await render(`stats.gauges.${base}.users.running`));
      return Math.max(...v, -1) >= USERS ? Math.max(...v) : undefined;
    }, 20_000, `users.running to reach ${USERS}`);
    expect(peak).toBe(USERS);

    const landed = await poll(async () => {
      const total = values(await render(`stats.counters.${base}.xmpp.messages_sent.count`)).reduce((a, b) => a + b, 0);
      return total >= sent ? total : undefined;
    }, 20_000, `xmpp.messages_sent to sum to ${sent}`);
    expect(landed).toBe(sent);

    const connections = await poll(async () => {
      const total = values(await render(`stats.timers.${base}.xmpp.connection.count`)).reduce((a, b) => a + b, 0);
      return total >= USERS ? total : undefined;
    }, 20_000, "xmpp.connection timings");
    expect(connections).toBe(USERS);
    expect(values(await render(`stats.counters.${base}.users.started.count`)).reduce((a, b) => a + b, 0)).toBe(USERS);

    const mine = await poll(async () => {
      const evs = (await events("amoc")).filter((e) => (JSON.parse(e.data || "{}") as { reported_by?: string }).reported_by === NODE);
      return evs.some((e) => e.tags.includes("stop")) ? evs : undefined;
    }, 10_000, "the do and stop annotations");
    const start = mine.find((e) => e.tags.includes("do"));
    const stop = mine.find((e) => e.tags.includes("stop"));
    expect(start?.tags).toEqual(["amoc", "do"]);
    expect(start?.what).toBe(`amoc do one_to_one: users 1..${USERS} (${USERS}) on ${NODE}`);
    expect(stop?.tags).toEqual(["amoc", "stop"]);
    expect(stop?.what).toMatch(new RegExp(`^amoc stop one_to_one: stopped: ${USERS} started, ${USERS} finished, 0 crashed, 0 removed on ${NODE}$`));
    expect(stop!.when).toBeGreaterThanOrEqual(start!.when);
  });
});
