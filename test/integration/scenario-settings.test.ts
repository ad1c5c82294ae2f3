/** Bad settings stop `bin/amoc run` at start (exit 2, naming the variable), before any user runs. */
import { describe, expect, it } from "vitest";
import { amoc } from "../helpers/proc.js";

describe("bin/amoc run with a bad XMPP setting", () => {
  it.each([
    ["AMOC_XMPP_SERVERS", "garbage", /AMOC_XMPP_SERVERS: entry 'garbage' is not a URL/],
    [
      "AMOC_XMPP_SASL_MECHANISM",
      "FOO",
      /AMOC_XMPP_SASL_MECHANISM: must be one of PLAIN, SCRAM-SHA-1, SCRAM-SHA-256, auto/,
    ],
    ["AMOC_XMPP_CONNECT_RETRIES", "-1", /AMOC_XMPP_CONNECT_RETRIES: must be a whole number/],
  ])("%s=%s exits 2 naming the variable, and no user starts", async (name, value, message) => {
    const r = await amoc(["run", "one_to_one", "--users", "1", "--json"], {
      env: { [name]: value },
      timeoutMs: 60_000,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout.trim()).toBe("");
  });

  it("a bad per-run setting (--set) is refused the same way", async () => {
    const r = await amoc(
      ["run", "one_to_one", "--users", "1", "--repeat", "1", "--set", "xmpp_servers=bogus://127.0.0.1", "--json"],
      { timeoutMs: 60_000 },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/xmpp_servers: entry 'bogus:\/\/127\.0\.0\.1' has the unknown scheme bogus:/);
  });
});
