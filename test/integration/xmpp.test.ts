/** The XMPP capability against the real Prosody and ejabberd started by scripts/servers.sh. */
import { describe, expect, it } from "vitest";
import { createNode } from "../../src/main.js";
import { countersOf } from "../helpers/counters.js";
import { amoc } from "../helpers/proc.js";
import { until } from "../helpers/wait.js";
import { ejabberdUrl, prosodyUrl } from "../helpers/endpoints.js";

const SERVERS = [
  { name: "prosody", plain: prosodyUrl("xmpp"), tls: prosodyUrl("xmpps"), ws: prosodyUrl("ws") },
  { name: "ejabberd", plain: ejabberdUrl("xmpp"), tls: ejabberdUrl("xmpps"), ws: ejabberdUrl("ws") },
];

interface Summary {
  users: Record<string, number>;
  metrics: Record<string, { count: number; p50?: number }>;
  errors: Array<{ phase: string; message: string; count: number }>;
}

async function runJson(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; s: Summary; stderr: string }> {
  const r = await amoc(["run", ...args, "--json"], { env, timeoutMs: 120_000 });
  if (!r.stdout.trim()) throw new Error(`no summary; exit ${r.code}; stderr: ${r.stderr}`);
  return { code: r.code, s: JSON.parse(r.stdout) as Summary, stderr: r.stderr };
}
const count = (s: Summary, name: string) => s.metrics[name]?.count ?? 0;

describe.each(SERVERS)("XMPP against $name", (srv) => {
  it("one_to_one delivers every message sent, with time to delivery and connection time measured", async () => {
    const { code, s } = await runJson(
      [
        "one_to_one",
        "--users",
        "40",
        "--interarrival",
        "5",
        "--repeat",
        "1",
        "--set",
        "message_count=5",
        "--set",
        "message_interval=20",
      ],
      { AMOC_XMPP_SERVERS: srv.plain },
    );
    expect(s.errors).toEqual([]);
    expect(code).toBe(0);
    expect(s.users).toMatchObject({ started: 40, finished: 40, crashed: 0 });
    expect(count(s, "xmpp.messages_sent")).toBe(200);
    expect(count(s, "xmpp.messages_received")).toBe(200);
    expect(count(s, "xmpp.message_ttd")).toBe(200);
    expect(count(s, "xmpp.connection")).toBe(40);
  });

  it("muc delivers every groupchat message to every other occupant", async () => {
    const { code, s } = await runJson(
      [
        "muc",
        "--users",
        "15",
        "--interarrival",
        "5",
        "--repeat",
        "1",
        "--set",
        "room_size=5",
        "--set",
        "message_count=4",
        "--set",
        "message_interval=20",
      ],
      { AMOC_XMPP_SERVERS: srv.plain },
    );
    expect(s.errors).toEqual([]);
    expect(code).toBe(0);
    expect(count(s, "xmpp.messages_sent")).toBe(60);
    expect(count(s, "xmpp.groupchat_echoes")).toBe(60);
    expect(count(s, "xmpp.messages_received")).toBe(60 * 4);
    expect(count(s, "muc.room_incomplete")).toBe(0);
  });

  it("logs in over direct TLS and WebSocket, with PLAIN and SCRAM-SHA-1", async () => {
    for (const [server, mech] of [
      [srv.tls, "PLAIN"],
      [srv.ws, "SCRAM-SHA-1"],
      [srv.plain, "SCRAM-SHA-1"],
    ] as const) {
      const { s } = await runJson(["login_storm", "--users", "6", "--interarrival", "0", "--repeat", "1"], {
        AMOC_XMPP_SERVERS: server,
        AMOC_XMPP_SASL_MECHANISM: mech,
        AMOC_XMPP_TLS_VERIFY: "0",
      });
      expect({ server, mech, users: s.users.finished, errors: s.errors }).toEqual({
        server,
        mech,
        users: 6,
        errors: [],
      });
    }
  });

  it("a wrong password is counted as an auth failure and the run exits 1", async () => {
    const { code, s } = await runJson(["login_storm", "--users", "5", "--interarrival", "0", "--repeat", "1"], {
      AMOC_XMPP_SERVERS: srv.plain,
      AMOC_XMPP_PASSWORD_TEMPLATE: "wrong_<id>",
    });
    expect(code).toBe(1);
    expect(s.users).toMatchObject({ crashed: 5, finished: 0 });
    expect(count(s, "xmpp.connection_failures.auth")).toBe(5);
    expect(s.errors[0]?.phase).toBe("auth");
  });

  it("registers users in band (XEP-0077), then logs them in", async () => {
    const run = Date.now() % 1_000_000;
    const { code, s } = await runJson(
      ["register", "--users", "5", "--interarrival", "0", "--repeat", "1", "--set", `user_template=reg${run}_<id>`],
      { AMOC_XMPP_SERVERS: srv.plain },
    );
    expect(s.errors).toEqual([]);
    expect(code).toBe(0);
    expect(count(s, "xmpp.registrations")).toBe(5);
    expect(count(s, "xmpp.connections")).toBe(5);
  });

  it("forced removal mid-send takes users offline at once and the others go on", async () => {
    const node = createNode({ env: { AMOC_LOG_LEVEL: "silent", AMOC_XMPP_SERVERS: srv.plain } });
    const summary = countersOf(node.telemetry);
    const c = node.controller;
    try {
      await c.do("one_to_one", 1, 20, { interarrival: 0, repeat_num: 1, message_count: 1000, message_interval: 20 });
      await until(() => summary.counter("xmpp.messages_sent") > 100, 30_000, "messages flowing");
      expect(c.remove(10, { force: true })).toMatchObject({ removed: 10 });
      await until(() => c.status().users.running === 10, 5000, "10 users left");
      expect(c.runningIds()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      await until(() => summary.counter("xmpp.disconnections") >= 10, 5000, "removed users disconnected");
      const before = summary.counter("xmpp.messages_received");
      await until(() => summary.counter("xmpp.messages_received") > before + 20, 10_000, "the others still exchanging");
      const final = await c.stop();
      expect(final.users).toMatchObject({ started: 20, removed: 20, crashed: 0, running: 0 });
    } finally {
      summary.close();
      await node.close();
    }
  });
});

describe("XMPP failures", () => {
  it("a server that is down is counted as refused, with a clear message, and the node keeps running", async () => {
    const node = createNode({ env: { AMOC_LOG_LEVEL: "silent", AMOC_XMPP_SERVERS: "xmpp://127.0.0.1:1" } });
    const summary = countersOf(node.telemetry);
    try {
      await node.controller.do("login_storm", 1, 5, { interarrival: 0, repeat_num: 1 });
      await node.controller.whenNoUsers();
      const st = node.controller.status();
      expect(st.state).toBe("running");
      expect(st.users).toMatchObject({ started: 5, crashed: 5 });
      expect(st.errors[0]?.message).toMatch(/^refused: connect ECONNREFUSED 127\.0\.0\.1:1/);
      expect(summary.counter("xmpp.connection_failures.refused")).toBe(5);
      expect(node.controller.add(1)).toMatchObject({ from: 6 });
      await node.controller.stop();
    } finally {
      summary.close();
      await node.close();
    }
  });

  it("a malformed xmpp_servers value is a config error at start (exit 2), naming the variable and the entry", async () => {
    const r = await amoc(["run", "login_storm", "--users", "2", "--interarrival", "0", "--repeat", "1", "--json"], {
      env: { AMOC_XMPP_SERVERS: prosodyUrl().replace(/^xmpp:/, "ftp:") },
      timeoutMs: 120_000,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/AMOC_XMPP_SERVERS: entry 'ftp:\/\/127\.0\.0\.1:\d+' has the unknown scheme ftp:/);
  });

  it("a certificate the client cannot verify is a tls failure", async () => {
    const { s } = await runJson(["login_storm", "--users", "2", "--interarrival", "0", "--repeat", "1"], {
      AMOC_XMPP_SERVERS: prosodyUrl("xmpps"),
    });
    expect(count(s, "xmpp.connection_failures.tls")).toBe(2);
    expect(s.errors[0]?.message).toMatch(/^tls: /);
  });
});
