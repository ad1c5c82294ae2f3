/**
 * The XEP scenarios (ping, receipts, roster, mam, pubsub, multi_transport) run through `bin/amoc run` against the
 * real Prosody and ejabberd: no user crashes, and what was delivered equals what was sent.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { newCommand } from "../../src/api/commands/new.js";
import { ejabberdUrl, prosodyUrl, type XmppKind } from "../helpers/endpoints.js";
import { amoc } from "../helpers/proc.js";

interface Summary {
  users: Record<string, number>;
  metrics: Record<string, { count: number }>;
  errors: Array<{ phase: string; message: string; count: number }>;
}

const SERVERS: Array<{ name: string; url: (k: XmppKind) => string }> = [
  { name: "prosody", url: prosodyUrl },
  { name: "ejabberd", url: ejabberdUrl },
];

/** Runs a scenario (a name, or a path) with `users` users and returns its summary, failing with the errors when a user crashed. */
async function run(scenario: string, users: number, server: string, sets: string[] = []): Promise<Summary> {
  const args = [
    "run",
    scenario,
    "--users",
    String(users),
    "--interarrival",
    "5",
    "--repeat",
    "1",
    "--json",
    ...sets.flatMap((s) => ["--set", s]),
  ];
  const r = await amoc(args, { env: { AMOC_XMPP_SERVERS: server, AMOC_XMPP_TLS_VERIFY: "0" }, timeoutMs: 120_000 });
  if (!r.stdout.trim()) throw new Error(`no summary; exit ${r.code}; stderr: ${r.stderr}`);
  const s = JSON.parse(r.stdout) as Summary;
  expect({ crashed: s.users.crashed, errors: s.errors }).toEqual({ crashed: 0, errors: [] });
  expect(s.users.finished).toBe(users);
  expect(r.code).toBe(0);
  return s;
}
const count = (s: Summary, name: string) => s.metrics[name]?.count ?? 0;

describe.each(SERVERS)("XEP scenarios against $name", ({ url }) => {
  it("ping answers every XEP-0199 ping and times each round trip", async () => {
    const s = await run("ping", 20, url("xmpp"), ["ping_count=3", "ping_interval=10"]);
    expect(count(s, "ping.pongs")).toBe(60);
    expect(count(s, "xmpp.iq.ping")).toBe(60);
  });

  it("receipts gets a XEP-0184 receipt for every chat, timed from sending", async () => {
    const s = await run("receipts", 20, url("xmpp"), ["message_count=4", "message_interval=10"]);
    expect(count(s, "receipts.requested")).toBe(80);
    expect(count(s, "receipts.received")).toBe(80);
    expect(count(s, "receipts.sent")).toBe(80);
    expect(count(s, "receipts.time")).toBe(80);
    expect(count(s, "receipts.missing")).toBe(0);
  });

  it("roster adds a contact, sees its push, completes the subscription handshake, and runs again from a clean roster", async () => {
    for (let round = 0; round < 2; round++) {
      const s = await run("roster", 20, url("xmpp"));
      expect(count(s, "roster.contacts_added")).toBe(10);
      expect(count(s, "roster.subscriptions_approved")).toBe(10);
      expect(count(s, "roster.subscriptions")).toBe(10);
      expect(count(s, "roster.push")).toBe(10);
    }
  });

  it("mam finds in the archive, page by page, every message sent in the run", async () => {
    const s = await run("mam", 20, url("xmpp"), ["message_count=6", "message_interval=10", "page_size=4"]);
    expect(count(s, "xmpp.messages_sent")).toBe(120);
    expect(count(s, "mam.messages_found")).toBe(120);
    expect(count(s, "mam.results")).toBe(240);
    expect(count(s, "mam.lookups")).toBe(20);
    // 12 messages per conversation in pages of 4: at least 3 pages each
    expect(count(s, "mam.pages")).toBeGreaterThanOrEqual(60);
  });

  it("pubsub delivers every PEP item to every subscriber of its group", async () => {
    const s = await run("pubsub", 20, url("xmpp"), ["group_size=5", "item_count=4", "publish_interval=10"]);
    expect(count(s, "pubsub.published")).toBe(16);
    expect(count(s, "pubsub.subscriptions")).toBe(16);
    expect(count(s, "pubsub.notifications")).toBe(16 * 4);
    expect(count(s, "pubsub.missing")).toBe(0);
  });

  it("multi_transport logs users in over TCP, direct TLS, STARTTLS and WebSocket and delivers across them", async () => {
    const servers = [url("xmpp"), url("xmpps"), url("ws")].join(",");
    const s = await run("multi_transport", 16, servers, ["message_count=2", "message_interval=10"]);
    for (const t of ["tcp", "tls", "starttls", "ws"]) {
      expect(count(s, `transport.${t}.connections`)).toBe(4);
      expect(count(s, `transport.${t}.messages_received`)).toBe(8);
    }
    expect(count(s, "xmpp.messages_received")).toBe(count(s, "xmpp.messages_sent"));
    expect(count(s, "xmpp.messages_sent")).toBe(32);
  });

  it("the starter of `amoc new` runs as is from a directory outside the checkout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "amoc-new-"));
    try {
      const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
      try {
        await newCommand(["starter"], dir);
      } finally {
        out.mockRestore();
      }
      const s = await run(join(dir, "starter.ts"), 6, url("xmpp"), ["pause_ms=10"]);
      expect(count(s, "starter.chats")).toBe(12);
      expect(count(s, "xmpp.iq.ping")).toBe(18);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
