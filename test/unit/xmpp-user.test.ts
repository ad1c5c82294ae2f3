/** XmppUser and connectUser against a scripted fake XMPP server: wrong arguments, buffered stanzas, STARTTLS. */
import { describe, expect, it } from "vitest";
import { XmppConnection } from "../../src/xmpp/connection.js";
import { connectUser } from "../../src/xmpp/session.js";
import { HEADER, xmppServer } from "../helpers/fake-xmpp-server.js";
import { context, FOREVER_MS, online, serve } from "../helpers/xmpp-user.js";

describe("XmppUser arguments", () => {
  it("rejects a string passed to send or iq with an XmppError that says to build an element with xml(...)", async () => {
    const server = await serve();
    const { user } = await online(server.url);
    for (const call of [() => user.send("<iq type='get'/>" as never), () => user.iq("<iq type='get'/>" as never)]) {
      const err = await call().catch((e: unknown) => e);
      expect(err).toMatchObject({ name: "XmppError", code: "USAGE" });
      expect((err as Error).message).toMatch(/takes an element, got a string/);
      expect((err as { hint: string }).hint).toMatch(/xml\(/);
    }
    await expect(user.send(undefined as never)).rejects.toMatchObject({
      code: "USAGE",
      message: expect.stringMatching(/got undefined/),
    });
    await user.close();
  });

  it("counts stanzas nobody waited for as buffered, not unmatched", async () => {
    const server = await serve(
      xmppServer((text, sock) => {
        if (text.includes("<presence"))
          sock.write(
            "<message from='a@localhost' id='m1'><body>1</body></message><message from='a@localhost' id='m2'/>",
          );
      }),
    );
    const { user, counts } = await online(server.url);
    await user.sendPresence();
    // m1 arrives while only m2 is waited for: it is buffered for a later wait, which takes it
    await user.waitFor((el) => el.attrs.id === "m2", FOREVER_MS);
    expect(user.poll((el) => el.attrs.id === "m1")?.getChildText("body")).toBe("1");
    expect(counts.get("xmpp.stanzas_buffered")).toBe(1);
    expect(counts.has("xmpp.stanzas_unmatched")).toBe(false);
    await user.close();
  });
});

describe("STARTTLS", () => {
  const noStarttls = xmppServer();

  it("is asked for by the xmpp_starttls setting, and fails clearly when the server does not offer it", async () => {
    const server = await serve(noStarttls);
    const { ctx } = context({ xmpp_servers: [server.url.href], xmpp_starttls: true });
    const err = await connectUser(ctx).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "XmppError", code: "XMPP_CONNECT_FAILED", reason: "tls" });
    expect((err as Error).message).toMatch(
      /STARTTLS was asked for \(xmpp_starttls\) but 127\.0\.0\.1:\d+ does not offer it/,
    );
    // nothing past the stream header: no credentials went out in plain text
    expect(server.received.join("")).not.toContain("<auth");
  });

  it("is not asked for when ConnectOptions.starttls overrides the setting", async () => {
    const server = await serve(noStarttls);
    const { ctx } = context({ xmpp_servers: [server.url.href], xmpp_starttls: true });
    const user = await connectUser(ctx, { starttls: false });
    expect(user.online).toBe(true);
    await user.close();
  });

  it("fails a bare XmppConnection asked for STARTTLS by a server that answers with features without it", async () => {
    const server = await serve((text, sock) => {
      if (text.includes("<stream:stream")) sock.write(HEADER + "<stream:features/>");
    });
    const err = await new XmppConnection({
      service: server.url,
      domain: "localhost",
      username: "u",
      password: "p",
      resource: "r",
      mechanism: "PLAIN",
      timeoutMs: FOREVER_MS,
      starttls: true,
      streamManagement: false,
      tlsVerify: false,
    })
      .start()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "tls", message: expect.stringMatching(/does not offer it/) });
  });
});
