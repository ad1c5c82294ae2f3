import { describe, expect, it } from "vitest";
import { AmocError } from "../../src/errors.js";
import { crashPhase, crashReason, normalizeMessage } from "../../src/users/crash-reason.js";

/** The shape of an XmppError without importing xmpp/ (users/ does not either). */
class FakeXmppError extends AmocError {
  constructor(
    readonly phase: string,
    readonly reason: string,
    message: string,
    cause?: unknown,
  ) {
    super(reason === "stanza_timeout" ? "XMPP_STANZA_TIMEOUT" : "XMPP_CONNECT_FAILED", message, "", { cause });
  }
}

describe("crashReason", () => {
  it("names an XMPP failure by its phase and failure reason, whatever user it names", () => {
    const a = new FakeXmppError("connect", "timeout", "timeout: connecting user_6951@localhost via 127.0.0.1:40123");
    const b = new FakeXmppError("connect", "timeout", "timeout: connecting user_12@localhost via 127.0.0.1:5222");
    expect(crashReason(a, crashPhase(a, "start"))).toBe("connect:timeout");
    expect(crashReason(b, crashPhase(b, "start"))).toBe("connect:timeout");
  });

  it("uses the SASL condition of an authentication failure", () => {
    const e = new FakeXmppError(
      "auth",
      "auth",
      "auth: SASL: not-authorized",
      Object.assign(new Error("SASL: not-authorized"), { condition: "not-authorized" }),
    );
    expect(crashReason(e, "auth")).toBe("auth:not-authorized");
  });

  it("keeps a stream error's condition", () => {
    const e = new FakeXmppError(
      "wait",
      "stream-error:system-shutdown",
      "connection lost: stream-error:system-shutdown",
    );
    expect(crashReason(e, "wait")).toBe("wait:stream-error:system-shutdown");
  });

  it("names a coded error by its code in kebab case, with a system cause's code", () => {
    expect(crashReason(new AmocError("TIMEOUT", "no answer from user_5 in 5000 ms", ""), "start")).toBe(
      "start:timeout",
    );
    const refused = new AmocError("XMPP_CONNECT_FAILED", "refused 127.0.0.1:5222", "", {
      cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }),
    });
    expect(crashReason(refused, "connect")).toBe("connect:xmpp-connect-failed:ECONNREFUSED");
  });

  it("groups plain errors by their message with numbers, JIDs, addresses and quoted text replaced", () => {
    const r1 = crashReason(
      new Error("user 17: wrong body 'hello 3' from user_17@localhost/res1 at 10.0.0.7:5222"),
      "start",
    );
    const r2 = crashReason(
      new Error("user 9021: wrong body 'hello 0' from user_9021@localhost/res9 at 10.0.0.8:5223"),
      "start",
    );
    expect(r1).toBe(r2);
    expect(r1).toBe("start:error: user <n>: wrong body <text> from <jid> at <addr>");
  });

  it("cuts a very long message so one odd error cannot make a huge key", () => {
    expect(crashReason(new Error("x".repeat(500)), "start").length).toBeLessThanOrEqual(96);
  });

  it("handles thrown strings and objects that are not errors", () => {
    expect(crashReason("boom 42", "start")).toBe("start:string: boom <n>");
    expect(crashReason(undefined, "init")).toBe("init:undefined");
  });
});

describe("normalizeMessage", () => {
  it("replaces UUIDs and IPv6 addresses", () => {
    expect(normalizeMessage("id 123e4567-e89b-12d3-a456-426614174000 at [::1]:4000")).toBe("id <uuid> at <addr>");
  });
});
