import { describe, expect, it } from "vitest";
import { isXmppJsLoginNoise } from "../../src/xmppjs/rejection-guard.js";

describe("the xmpp.js rejection guard", () => {
  it("swallows the network and xmpp.js errors a failed login leaves unhandled, and nothing else", () => {
    expect(isXmppJsLoginNoise(Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }))).toBe(true);
    expect(isXmppJsLoginNoise(Object.assign(new Error("x"), { name: "StreamError" }))).toBe(true);
    expect(isXmppJsLoginNoise(new TypeError("a bug"))).toBe(false);
    expect(isXmppJsLoginNoise("text")).toBe(false);
    expect(isXmppJsLoginNoise(null)).toBe(false);
  });
});
