/** The XMPP client's STARTTLS and stream management against the real Prosody and ejabberd (scripts/servers.sh). */
import { describe, expect, it } from "vitest";
import type { ConnectionOptions } from "../../src/xmpp/connection-options.js";
import { XmppConnection } from "../../src/xmpp/connection.js";
import { ejabberdUrl, prosodyUrl } from "../helpers/endpoints.js";

const SERVERS = [
  { name: "prosody", plain: prosodyUrl("xmpp") },
  { name: "ejabberd", plain: ejabberdUrl("xmpp") },
];

function options(service: string, over: Partial<ConnectionOptions> = {}): ConnectionOptions {
  return {
    service: new URL(service),
    domain: "localhost",
    username: "user_1999",
    password: "password_1999",
    resource: "conn-test",
    mechanism: "PLAIN",
    timeoutMs: 10_000,
    starttls: false,
    streamManagement: false,
    tlsVerify: false,
    ...over,
  };
}

describe.each(SERVERS)("XmppConnection against $name", (srv) => {
  it("upgrades with STARTTLS when asked, then logs in with PLAIN and with SCRAM-SHA-1", async () => {
    for (const mechanism of ["PLAIN", "SCRAM-SHA-1"]) {
      const c = new XmppConnection(options(srv.plain, { starttls: true, mechanism }));
      await c.start();
      expect({ mechanism, secure: c.isSecure(), jid: c.jid }).toEqual({
        mechanism,
        secure: true,
        jid: "user_1999@localhost/conn-test",
      });
      await c.close(5000);
      expect(c.status).toBe("closed");
    }
  });

  it("stays in plain text when STARTTLS is not asked for, without stream management unless asked", async () => {
    const c = new XmppConnection(options(srv.plain));
    await c.start();
    expect(c.isSecure()).toBe(false);
    expect(c.streamManagementEnabled).toBe(false);
    await c.close(5000);
  });

  it("refuses a certificate it cannot verify after STARTTLS", async () => {
    const err = await new XmppConnection(options(srv.plain, { starttls: true, tlsVerify: true }))
      .start()
      .catch((e: unknown) => e);
    expect(String((err as Error).message)).toMatch(/certificate/i);
  });
});

describe("XmppConnection stream management", () => {
  it("enables XEP-0198 on ejabberd when asked and keeps working", async () => {
    const c = new XmppConnection(options(ejabberdUrl("xmpp"), { streamManagement: true }));
    let presence: (name: string) => void = () => {};
    const echoed = new Promise<string>((r) => (presence = r));
    c.handler = { onStanza: (el) => el.name === "presence" && presence(el.name) };
    await c.start();
    expect(c.streamManagementEnabled).toBe(true);
    c.sendText("<presence/>", true);
    // the server sends our own presence back to us
    expect(await echoed).toBe("presence");
    await c.close(5000);
  });
});
