import { FakeClock } from "../helpers/fake-clock.js";
import { describe, expect, it } from "vitest";
import { screenCommand } from "../../src/cluster/command-gate.js";
import { RateLimitedLog } from "../../src/metrics/rate-limited-log.js";
import { createHash } from "node:crypto";
import { COMMAND_TYPES, checkReply, decode, type Command } from "../../src/cluster/protocol.js";
import { sourceVersion } from "../../src/source-version.js";
import { memoryLogger } from "../helpers/fake-cluster.js";

/** Decodes a command with the envelope a master adds (cluster and the addressed boot ID). */
const ok = (m: object) => decode<Command>(JSON.stringify({ cluster: "c", to: "b1", ...m }), COMMAND_TYPES);

describe("cluster protocol", () => {
  it("accepts a well-formed command", () => {
    const r = ok({
      v: 1,
      type: "start",
      from: "m",
      runId: "r1",
      plans: [{ from: 1, to: 9, step: 3, offset: 0, t0Ms: 1, baseId: 1, interarrivalMs: 0 }],
    });
    expect(r.ok).toBe(true);
  });

  it("a removal of 300,000 users is one small message: ranges, not IDs", () => {
    const msg = {
      v: 1,
      type: "remove_ids",
      from: "m",
      runId: "r",
      ranges: [{ first: 700_000, last: 999_997, step: 3 }],
      force: false,
    };
    expect(ok(msg).ok).toBe(true);
    expect(JSON.stringify(msg).length).toBeLessThan(200);
  });

  it("a heartbeat may say the node is leaving, and nothing else than a boolean", () => {
    const hb = {
      v: 1,
      type: "heartbeat",
      from: "w1",
      role: "worker",
      boot: "b",
      labels: {},
      runId: null,
      state: "idle",
      running: 0,
    };
    expect(decode(JSON.stringify({ ...hb, leaving: true }), ["heartbeat"]).ok).toBe(true);
    expect(decode(JSON.stringify(hb), ["heartbeat"]).ok).toBe(true);
    expect(decode(JSON.stringify({ ...hb, leaving: "yes" }), ["heartbeat"])).toMatchObject({
      ok: false,
      reason: "heartbeat: leaving must be a boolean",
    });
  });

  it("rejects malformed messages with a reason and the sender when known", () => {
    expect(decode("{not json", COMMAND_TYPES)).toMatchObject({ ok: false, reason: "not JSON" });
    expect(ok({ v: 2, type: "stop", from: "x", runId: "r" })).toMatchObject({
      ok: false,
      reason: /unsupported protocol version 2/,
      from: "x",
    });
    expect(ok({ v: 1, type: "explode", from: "x" })).toMatchObject({
      ok: false,
      reason: /unknown message type "explode"/,
    });
    expect(ok({ v: 1, type: "start", from: "x", runId: "r", plans: [{ from: 1 }] })).toMatchObject({
      ok: false,
      reason: /start: plans \[0\] to must be an integer/,
    });
    expect(
      ok({
        v: 1,
        type: "remove_ids",
        from: "x",
        runId: "r",
        ranges: [
          { first: 1, last: 9, step: 1 },
          { first: 3, last: 1, step: 1 },
        ],
        force: true,
      }),
    ).toMatchObject({ ok: false, reason: "remove_ids: ranges [1] must have step >= 1 and first <= last" });
    expect(ok({ v: 1, type: "remove_ids", from: "x", runId: "r", ids: [1, 2], force: true })).toMatchObject({
      ok: false,
      reason: "remove_ids: ranges must be an array",
    });
    expect(ok({ v: 1, type: "heartbeat", from: "x" })).toMatchObject({
      ok: false,
      reason: /unknown message type "heartbeat"/,
    });
  });

  it("a prepare names its scenario by name and version only, never by path", () => {
    const prep = { v: 1, type: "prepare", from: "m", runId: "r", settings: {} };
    expect(ok({ ...prep, scenario: "dummy" }).ok).toBe(true);
    expect(ok({ ...prep, scenario: "up_hold", version: "0123456789abcdef" }).ok).toBe(true);
    expect(ok({ ...prep, scenario: "/tmp/evil.ts" })).toMatchObject({
      ok: false,
      reason: /scenario must be a scenario name, not a path/,
    });
    expect(ok({ ...prep, scenario: "../evil" })).toMatchObject({
      ok: false,
      reason: /scenario must be a scenario name/,
    });
    expect(ok({ ...prep, scenario: "up_hold", version: "../../etc" })).toMatchObject({
      ok: false,
      reason: /version must be 16 hex digits/,
    });
  });

  it("a source's version is the first 16 hex digits of the SHA-256 of its UTF-8 bytes", () => {
    const src = "export async function start() {} // ünïcödé 🎉";
    expect(sourceVersion(src)).toBe(createHash("sha256").update(Buffer.from(src, "utf8")).digest("hex").slice(0, 16));
  });

  it("a sender must be named by the node-name rule, and a command must say its cluster and addressee", () => {
    expect(ok({ v: 1, type: "status", from: "../x" })).toMatchObject({ ok: false, reason: /from must be a node name/ });
    expect(decode(JSON.stringify({ v: 1, type: "status", from: "m" }), COMMAND_TYPES)).toMatchObject({
      ok: false,
      reason: /cluster must be a non-empty string/,
    });
    expect(decode(JSON.stringify({ v: 1, type: "status", from: "m", cluster: "c" }), COMMAND_TYPES)).toMatchObject({
      ok: false,
      reason: /to must be a non-empty string/,
    });
  });
});

describe("what a worker does with a raw command", () => {
  const me = { cluster: "c", boot: "b1" };
  const raw = (m: object) => JSON.stringify({ v: 1, type: "status", from: "m", cluster: "c", to: "b1", ...m });

  it("serves a command of its cluster and protocol addressed to this process", () => {
    expect(screenCommand(raw({}), me)).toMatchObject({ act: "serve", cmd: { type: "status" } });
  });

  it("ignores a command of another cluster, another protocol version or another process of its name", () => {
    expect(screenCommand(raw({ cluster: "other" }), me)).toMatchObject({
      act: "ignore",
      kind: "cluster",
      why: /cluster "other"/,
    });
    expect(screenCommand(raw({ v: 2 }), me)).toMatchObject({
      act: "ignore",
      kind: "protocol",
      why: /protocol version 2/,
    });
    expect(screenCommand(raw({ to: "b2" }), me)).toMatchObject({
      act: "ignore",
      kind: "boot",
      why: /another process may run under the same name/,
    });
  });

  it("refuses a malformed command of its own cluster with the reason", () => {
    expect(screenCommand("garbage", me)).toMatchObject({ act: "refuse", reason: "not JSON" });
    expect(screenCommand(raw({ type: "stop" }), me)).toMatchObject({ act: "refuse", reason: /stop: runId/ });
  });
});

describe("a rate-limited log", () => {
  it("logs the first event of a kind at once, then at most once per interval with the count held back", () => {
    const { log, lines } = memoryLogger();
    const clock = new FakeClock(0);
    const l = new RateLimitedLog(log, "command_ignored", 1000, clock);
    for (let i = 0; i < 5; i++) l.warnKind("k", { from: "x" });
    expect(lines).toHaveLength(1);
    clock.spend(1000);
    l.warnKind("k", { from: "x" });
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ msg: "command_ignored", suppressed: 4 });
  });
});

describe("replies typed per command", () => {
  const status = {
    node: "w1",
    state: "running",
    run_id: "r1",
    users: { running: 1, started: 1, finished: 0, crashed: 0, removed: 0, pending: 0, removing: 0 },
    problems: [],
  };

  it("accepts each command's reply of its own type", () => {
    expect(checkReply("status", status)).toMatchObject({ ok: true });
    expect(checkReply("stop", { ...status, final_interval: true })).toMatchObject({ ok: true });
    expect(checkReply("top_ids", { count: 1, ranges: [{ first: 3, last: 3, step: 1 }], escalate: [] })).toMatchObject({
      ok: true,
    });
    expect(checkReply("start", { scheduled: 10, repeated: true })).toMatchObject({ ok: true });
  });

  it("refuses a reply that is not of its command's type, naming the field", () => {
    expect(checkReply("stop", status)).toEqual({ ok: false, reason: "stop reply: final_interval must be a boolean" });
    expect(checkReply("status", { ...status, users: { running: "1" } })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^status reply: users must map names to counts/) as unknown,
    });
    expect(checkReply("top_ids", { count: 1, ranges: [{ first: 5, last: 1, step: 1 }], escalate: [] })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/ranges \[0\] must have step >= 1 and first <= last/) as unknown,
    });
    expect(checkReply("remove_ids", { removed: -1 })).toMatchObject({ ok: false });
  });
});
