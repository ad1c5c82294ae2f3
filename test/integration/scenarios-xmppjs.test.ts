/** `amoc-ts/xmppjs`: the xmppjs_chat scenario (an @xmpp/client Client per user) against the real Prosody and ejabberd. */
import { describe, expect, it } from "vitest";
import { ejabberdUrl, prosodyUrl } from "../helpers/endpoints.js";
import { amoc } from "../helpers/proc.js";

interface Summary {
  users: Record<string, number>;
  metrics: Record<string, { count: number }>;
  errors: Array<{ phase: string; message: string; count: number }>;
}

describe.each([
  { name: "prosody", url: prosodyUrl },
  { name: "ejabberd", url: ejabberdUrl },
])("xmpp.js entry against $name", ({ url }) => {
  it("xmppjs_chat logs in with @xmpp/client, delivers every chat, and reports logins like the lean client", async () => {
    const args = [
      "run",
      "xmppjs_chat",
      "--users",
      "20",
      "--interarrival",
      "5",
      "--repeat",
      "1",
      "--set",
      "message_count=3",
      "--set",
      "message_interval=10",
      "--json",
    ];
    // both servers offer STARTTLS with a self-signed certificate, and xmpp.js always upgrades
    const r = await amoc(args, {
      env: { AMOC_XMPP_SERVERS: url("xmpp"), AMOC_XMPP_TLS_VERIFY: "0" },
      timeoutMs: 120_000,
    });
    if (!r.stdout.trim()) throw new Error(`no summary; exit ${r.code}; stderr: ${r.stderr}`);
    const s = JSON.parse(r.stdout) as Summary;
    expect({ crashed: s.users.crashed, errors: s.errors, finished: s.users.finished }).toEqual({
      crashed: 0,
      errors: [],
      finished: 20,
    });
    const count = (name: string) => s.metrics[name]?.count ?? 0;
    expect(count("xmpp.connections")).toBe(20);
    expect(count("xmpp.connection")).toBe(20);
    expect(count("chat.messages_sent")).toBe(60);
    expect(count("chat.messages_received")).toBe(60);
    expect(count("xmpp.disconnections")).toBe(20);
  });

  it("a wrong password fails the login with reason auth, counted as the lean client counts it", async () => {
    const r = await amoc(["run", "xmppjs_chat", "--users", "2", "--interarrival", "0", "--repeat", "1", "--json"], {
      env: { AMOC_XMPP_SERVERS: url("xmpp"), AMOC_XMPP_TLS_VERIFY: "0", AMOC_XMPP_PASSWORD_TEMPLATE: "wrong_<id>" },
      timeoutMs: 120_000,
    });
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.users.crashed).toBe(2);
    expect(s.errors[0]?.phase).toBe("auth");
    expect(s.metrics["xmpp.connection_failures.auth"]?.count).toBe(2);
  });
});
