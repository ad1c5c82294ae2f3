import { rmSync } from "node:fs";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { parseRunArgs } from "../../src/api/run/options.js";
import { runOnNode } from "../../src/api/run/run.js";
import { createNode } from "../../src/main.js";
import type { CounterSummary } from "../../src/results/summary.js";
import { graphiteWeb, prosodyUrl, statsd, whisperStatsDir } from "../helpers/endpoints.js";
import { events, poll, render, values } from "../helpers/graphite.js";

// unique per test run, so data of an earlier run can never satisfy the assertions
const RUN_ID = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const PREFIX = `amoctest${RUN_ID}`;

// every run writes ~100 MB of whisper files under its unique prefix: remove them once the assertions are done
afterAll(() => {
  for (const kind of ["counters", "gauges", "timers"])
    rmSync(`${whisperStatsDir()}/${kind}/${PREFIX}`, { recursive: true, force: true });
});

/** A node reporting to the test run's StatsD and graphite-web under `node`. */
function reportingNode(node: string) {
  const s = statsd();
  return createNode({
    env: {
      ...process.env,
      AMOC_STATSD_HOST: s.host,
      AMOC_STATSD_PORT: String(s.port),
      AMOC_GRAPHITE_EVENTS_URL: `${graphiteWeb()}/events/`,
      AMOC_NODE_NAME: node,
      AMOC_METRICS_PREFIX: PREFIX,
      AMOC_XMPP_SERVERS: prosodyUrl("xmpp"),
      AMOC_LOG_LEVEL: "warn",
    },
  });
}

const quietIo = () => ({ err: new Writable({ write: (_c, _e, cb) => cb() }), isTTY: false });

/** The highest value graphite holds for `target`, once it is at least `atLeast` (StatsD flushes every second). */
function peakOf(target: string, atLeast: number): Promise<number> {
  return poll(
    async () => {
      const v = values(await render(target));
      return v.length > 0 && Math.max(...v) >= atLeast ? Math.max(...v) : undefined;
    },
    20_000,
    `${target} to reach ${atLeast}`,
  );
}

/** The sum of a counter's points, once it is at least `atLeast`. */
function sumOf(target: string, atLeast: number): Promise<number> {
  return poll(
    async () => {
      const total = values(await render(target)).reduce((a, b) => a + b, 0);
      return total >= atLeast ? total : undefined;
    },
    20_000,
    `${target} to sum to ${atLeast}`,
  );
}

describe("metrics through StatsD to Graphite", () => {
  it("a one_to_one run leaves its users gauge, its message counter and its do/stop annotations in graphite-web", async () => {
    const USERS = 20;
    const NODE = `it-${RUN_ID}`;
    const node = reportingNode(NODE);
    let sent: number;
    try {
      const opts = parseRunArgs([
        "one_to_one",
        "--users",
        String(USERS),
        "--interarrival",
        "10",
        "--repeat",
        "1",
        "--set",
        "linger_ms=3000",
        "--set",
        "message_interval=50",
      ]);
      const { summary, exitCode } = await runOnNode(node, opts, undefined, quietIo());
      expect(exitCode).toBe(0);
      sent = (summary.metrics["xmpp.messages_sent"] as CounterSummary).count;
      expect(sent).toBe(USERS * 5);
    } finally {
      await node.close();
    }

    const base = `${PREFIX}.${NODE}`;
    expect(await peakOf(`stats.gauges.${base}.users.running`, USERS)).toBe(USERS);
    // each counter is waited for until it reaches its expected sum, then must not exceed it
    expect(await sumOf(`stats.counters.${base}.xmpp.messages_sent.count`, sent)).toBe(sent);
    expect(await sumOf(`stats.timers.${base}.xmpp.connection.count`, USERS)).toBe(USERS);
    expect(await sumOf(`stats.counters.${base}.users.started.count`, USERS)).toBe(USERS);

    // graphite-web (Django's dev server) may answer a POST after the 5 s client timeout on a loaded machine and still
    // store it: wait for it rather than fail on a slow answer
    const mine = await poll(
      async () => {
        const evs = (await events("amoc")).filter(
          (e) => (JSON.parse(e.data || "{}") as { reported_by?: string }).reported_by === NODE,
        );
        return evs.some((e) => e.tags.includes("stop")) && evs.some((e) => e.tags.includes("do")) ? evs : undefined;
      },
      30_000,
      "the do and stop annotations",
    );
    const start = mine.find((e) => e.tags.includes("do"));
    const stop = mine.find((e) => e.tags.includes("stop"));
    expect(start?.tags).toEqual(["amoc", "do"]);
    expect(start?.what).toBe(`amoc do one_to_one: users 1..${USERS} (${USERS}) on ${NODE}`);
    expect(stop?.tags).toEqual(["amoc", "stop"]);
    expect(stop?.what).toMatch(
      new RegExp(
        `^amoc stop one_to_one: stopped: ${USERS} started, ${USERS} finished, 0 crashed, 0 removed on ${NODE}$`,
      ),
    );
    expect(stop!.when).toBeGreaterThanOrEqual(start!.when);
  });

  it("a run of about 1.2 s shows its users running as the gauge's peak in graphite", async () => {
    const USERS = 25;
    const NODE = `short-${RUN_ID}`;
    const node = reportingNode(NODE);
    try {
      // every user up at once for 1.2 s: once-a-second sampling alone may see 0 throughout
      const opts = parseRunArgs([
        "dummy",
        "--users",
        String(USERS),
        "--interarrival",
        "0",
        "--repeat",
        "1",
        "--set",
        "dummy_sleep_ms=1200",
      ]);
      const { exitCode } = await runOnNode(node, opts, undefined, quietIo());
      expect(exitCode).toBe(0);
    } finally {
      await node.close();
    }
    const base = `${PREFIX}.${NODE}`;
    expect(await sumOf(`stats.counters.${base}.users.finished.count`, USERS)).toBe(USERS);
    expect(await peakOf(`stats.gauges.${base}.users.running`, USERS)).toBe(USERS);
  });
});
