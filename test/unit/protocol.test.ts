import { describe, expect, it } from "vitest";
import { COMMAND_TYPES, decode, type Command } from "../../src/cluster/protocol.js";

const ok = (m: object) => decode<Command>(JSON.stringify(m), COMMAND_TYPES);

describe("cluster protocol", () => {
  it("accepts a well-formed command", () => {
    const r = ok({ v: 1, type: "start", from: "m", runId: "r1", plans: [{ from: 1, to: 9, step: 3, offset: 0, t0Ms: 1, baseId: 1, interarrivalMs: 0 }] });
    expect(r.ok).toBe(true);
  });

  it("a removal of 300,000 users is one small message: ranges, not IDs", () => {
    const msg = { v: 1, type: "remove_ids", from: "m", runId: "r", ranges: [{ first: 700_000, last: 999_997, step: 3 }], force: false };
    expect(ok(msg).ok).toBe(true);
    expect(JSON.stringify(msg).length).toBeLessThan(200);
  });

  it("a heartbeat may say the node is leaving, and nothing else than a boolean", () => {
    const hb = { v: 1, type: "heartbeat", from: "w1", role: "worker", boot: "b", labels: {}, runId: null, state: "idle", running: 0 };
    expect(decode(JSON.stringify({ ...hb, leaving: true }), ["heartbeat"]).ok).toBe(true);
    expect(decode(JSON.stringify(hb), ["heartbeat"]).ok).toBe(true);
    expect(decode(JSON.stringify({ ...hb, leaving: "yes" }), ["heartbeat"])).toMatchObject({ ok: false, reason: "heartbeat: leaving must be a boolean" });
  });

  it("rejects malformed messages with a reason and the sender when known", () => {
    expect(decode("{not json", COMMAND_TYPES)).toMatchObject({ ok: false, reason: "not JSON" });
    expect(ok({ v: 2, type: "stop", from: "x", runId: "r" })).toMatchObject({ ok: false, reason: /unsupported protocol version 2/, from: "x" });
    expect(ok({ v: 1, type: "explode", from: "x" })).toMatchObject({ ok: false, reason: /unknown message type "explode"/ });
    expect(ok({ v: 1, type: "start", from: "x", runId: "r", plans: [{ from: 1 }] })).toMatchObject({ ok: false, reason: /start: plans \[0\] to must be an integer/ });
    expect(ok({ v: 1, type: "remove_ids", from: "x", runId: "r", ranges: [{ first: 1, last: 9, step: 1 }, { first: 3, last: 1, step: 1 }], force: true })).toMatchObject({ ok: false, reason: "remove_ids: ranges [1] must have step >= 1 and first <= last" });
    expect(ok({ v: 1, type: "remove_ids", from: "x", runId: "r", ids: [1, 2], force: true })).toMatchObject({ ok: false, reason: "remove_ids: ranges must be an array" });
    expect(ok({ v: 1, type: "heartbeat", from: "x" })).toMatchObject({ ok: false, reason: /unknown message type "heartbeat"/ });
  });
});
