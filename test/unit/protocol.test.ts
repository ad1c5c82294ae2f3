import { describe, expect, it } from "vitest";
import { COMMAND_TYPES, decode, type Command } from "../../src/cluster/protocol.js";

const ok = (m: object) => decode<Command>(JSON.stringify(m), COMMAND_TYPES);

describe("cluster protocol", () => {
  it("accepts a well-formed command", () => {
    const r = ok({ v: 1, type: "start", from: "m", runId: "r1", plans: [{ from: 1, to: 9, step: 3, offset: 0, t0Ms: 1, baseId: 1, interarrivalMs: 0 }] });
    expect(r.ok).toBe(true);
  });

  it("rejects malformed messages with a reason and the sender when known", () => {
    expect(decode("{not json", COMMAND_TYPES)).toMatchObject({ ok: false, reason: "not JSON" });
    expect(ok({ v: 2, type: "stop", from: "x", runId: "r" })).toMatchObject({ ok: false, reason: /unsupported protocol version 2/, from: "x" });
    expect(ok({ v: 1, type: "explode", from: "x" })).toMatchObject({ ok: false, reason: /unknown message type "explode"/ });
    expect(ok({ v: 1, type: "start", from: "x", runId: "r", plans: [{ from: 1 }] })).toMatchObject({ ok: false, reason: /start: plans \[0\] to must be an integer/ });
    expect(ok({ v: 1, type: "remove_ids", from: "x", runId: "r", ids: [1, "2"], force: true })).toMatchObject({ ok: false, reason: /ids \[1\] must be an integer/ });
    expect(ok({ v: 1, type: "heartbeat", from: "x" })).toMatchObject({ ok: false, reason: /unknown message type "heartbeat"/ });
  });
});
