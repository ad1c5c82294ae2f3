/** XmppUser and connectUser against a scripted fake XMPP server: a lost connection, wrong arguments, STARTTLS, metrics. */
import { afterEach, describe, expect, it } from "vitest";
import { SCHEMA, type NodeSettings } from "../../src/config/schema.js";
import { silentLogger } from "../../src/log.js";
import type { Metrics } from "../../src/metrics/metrics.js";
import { XmppConnection } from "../../src/xmpp/connection.js";
import { connectUser } from "../../src/xmpp/session.js";
import { xml } from "../../src/xmpp/xml.js";
import { XmppUser, type XmppContext } from "../../src/xmpp/xmpp-user.js";
import { HEADER, serve as startServer, xmppServer, type FakeServer, type Script } from "../helpers/fake-xmpp-server.js";

const servers: FakeServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(script: Script = xmppServer()): Promise<FakeServer> {
  const s = await startServer(script);
  servers.push(s);
  return s;
}

/** Longer than any test may run: a wait that rejects did so because of the loss, not its timer. */
const FOREVER_MS = 600_000;

/** The schema's defaults with `over`: no config loading, so these tests do not depend on it. */
function settings(over: Partial<NodeSettings>): NodeSettings {
  const defaults = Object.fromEntries(Object.entries(SCHEMA).map(([k, spec]) => [k, spec.default]));
  return { ...defaults, xmpp_user_template: "user", xmpp_password_template: "pw", ...over } as NodeSettings;
}

function context(over: Partial<NodeSettings> = {}) {
  const counts = new Map<string, number>();
  const metrics: Metrics = {
    count: (n, k = 1) => void counts.set(n, (counts.get(n) ?? 0) + k),
    timing: () => {},
    gauge: () => {},
  };
  const ctx: XmppContext = {
    id: 1,
    settings: settings(over),
    metrics,
    log: silentLogger(),
    phase: "test",
    signal: new AbortController().signal,
    stopping: false,
    stopped: () => new Promise<void>(() => {}),
  };
  return { ctx, counts };
}

async function online(url: URL): Promise<{ user: XmppUser; counts: Map<string, number> }> {
  const { ctx, counts } = context({ xmpp_servers: [url.href] });
  return { user: await connectUser(ctx), counts };
}

/** Each way the server can end an online connection, and the reason the scenario must see. */
const LOSSES: Array<{ how: string; reason: string; end: (s: FakeServer) => void }> = [
  { how: "closes the stream", reason: "closed", end: (s) => s.sockets[0]?.end("</stream:stream>") },
  {
    how: "sends a stream error",
    reason: "stream-error:system-shutdown",
    end: (s) =>
      s.sockets[0]?.write(
        "<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bye</text></stream:error>",
      ),
  },
  { how: "closes the socket (EOF)", reason: "closed", end: (s) => s.sockets[0]?.end() },
  { how: "resets the socket", reason: "reset", end: (s) => s.sockets[0]?.resetAndDestroy() },
];

describe("a user whose connection the server ends", () => {
  it.each(LOSSES)(
    "rejects every pending wait and IQ at once when the server $how, with reason $reason",
    async ({ end, reason }) => {
      const server = await serve();
      const { user, counts } = await online(server.url);
      const chat = user.waitForChat(FOREVER_MS, 2);
      const any = user.waitFor(() => false, FOREVER_MS);
      const iq = user.iq(
        xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: "urn:xmpp:ping" })),
        FOREVER_MS,
      );
      await server.receivedUntil((all) => all.includes("urn:xmpp:ping"));
      end(server);
      const errs = await Promise.all(
        [chat, any, iq].map((p) =>
          p.then(
            () => undefined,
            (e: unknown) => e,
          ),
        ),
      );
      for (const e of errs)
        expect(e).toMatchObject({
          name: "XmppError",
          code: "XMPP_CONNECTION_LOST",
          reason,
          message: expect.stringContaining(`connection lost: ${reason}`),
        });
      expect(errs.map((e) => (e as { phase: string }).phase)).toEqual(["wait", "wait", "iq"]);
      expect(counts.get("xmpp.timeouts")).toBeUndefined();
      expect(counts.get("xmpp.connections_lost")).toBe(1);
      await user.close();
    },
  );

  it("rejects the next send and the next wait at once after the loss, with the same reason", async () => {
    const server = await serve();
    const { user } = await online(server.url);
    const lost = new Promise<void>((r) => server.sockets[0]?.on("close", () => r()));
    server.sockets[0]?.write("<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>");
    // nothing is pending: the loss must still be remembered (a scenario sleeping between two sends)
    await lost;
    await expect(user.waitFor(() => true, FOREVER_MS)).rejects.toMatchObject({
      phase: "wait",
      reason: "stream-error:conflict",
    });
    const sendErr = await user.sendChat(2, "hi").catch((e: unknown) => e);
    expect(sendErr).toMatchObject({ code: "XMPP_CONNECTION_LOST", phase: "send", reason: "stream-error:conflict" });
    await expect(user.send(xml("presence"))).rejects.toMatchObject({ phase: "send", reason: "stream-error:conflict" });
    await expect(user.iq(xml("iq", { type: "get" }), FOREVER_MS)).rejects.toMatchObject({
      phase: "iq",
      reason: "stream-error:conflict",
    });
    await user.close();
  });

  it("rejects a send as a lost connection when the socket is gone but its close event has not come yet", async () => {
    const server = await serve();
    const { user, counts } = await online(server.url);
    // the window a loaded process sees between a socket ending and its close event, made deterministic
    const internals = user as unknown as { conn: { transport: { socket: import("node:net").Socket } } };
    internals.conn.transport.socket.destroy();
    await expect(user.sendChat(2)).rejects.toMatchObject({
      code: "XMPP_CONNECTION_LOST",
      phase: "send",
      reason: "closed",
    });
    expect(counts.get("xmpp.connections_lost")).toBe(1);
  });

  it("does not report a loss when the scenario closes the connection itself", async () => {
    const server = await serve();
    const { user, counts } = await online(server.url);
    await user.close();
    expect(counts.get("xmpp.connections_lost")).toBeUndefined();
  });
});

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

describe("stream resumption (XEP-0198)", () => {
  const SM_FEATURES = `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>`;
  /** Offers SM and grants resumption; answers `<resume/>` with `onResume` (the text the client sent). */
  const smServer =
    (onResume: (text: string, sock: import("node:net").Socket) => void): Script =>
    (text, sock, st) => {
      if (text.includes("<stream:stream")) {
        st.streams++;
        sock.write(
          HEADER +
            (st.streams === 1
              ? `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`
              : SM_FEATURES),
        );
      } else if (text.includes("<auth")) sock.write("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
      else if (text.includes("<bind"))
        sock.write(
          "<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@localhost/r</jid></bind></iq>",
        );
      else if (text.includes("<enable")) sock.write("<enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='true'/>");
      else if (text.includes("<resume")) onResume(text, sock);
      else if (text.includes("</stream:stream>")) sock.end("</stream:stream>");
    };

  async function resumable(script: Script) {
    const server = await serve(script);
    const { ctx, counts } = context({ xmpp_servers: [server.url.href], xmpp_stream_management: true });
    const user = await connectUser(ctx);
    return { server, user, counts };
  }

  it("resumes after a dropped socket: waits go on, unacknowledged stanzas go out again, nothing is lost", async () => {
    const { server, user, counts } = await resumable(
      smServer((text, sock) => {
        // it has handled nothing of ours: everything sent since enabling must come again
        if (text.includes("previd='sm-1'") && text.includes("h='0'"))
          sock.write(
            "<resumed xmlns='urn:xmpp:sm:3' previd='sm-1' h='0'/><message from='peer@localhost/x' type='chat' id='after'><body>back</body></message>",
          );
        else sock.write("<failed xmlns='urn:xmpp:sm:3'/>");
      }),
    );
    const chat = user.waitForChat(FOREVER_MS);
    await user.sendChat("peer@localhost", "before");
    await server.receivedUntil((all) => all.includes(">before<"));
    server.sockets[0]?.resetAndDestroy();
    // sent while the socket is down (or not yet noticed as down): queued, then sent again after <resumed/>
    await user.sendChat("peer@localhost", "during");
    expect((await chat).getChildText("body")).toBe("back");
    const onSecond = await server.receivedUntil((all) => all.split("<resume ")[1]?.includes(">during<") === true);
    expect(onSecond.split("<resume ")[1]).toContain(">before<");
    expect(user.online).toBe(true);
    expect(counts.get("xmpp.resumptions")).toBe(1);
    expect(counts.get("xmpp.connections_lost")).toBeUndefined();
    await user.close();
  });

  it("reports the drop's reason to every wait when the server refuses to resume", async () => {
    const { server, user, counts } = await resumable(
      smServer((_text, sock) =>
        sock.write(
          "<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>",
        ),
      ),
    );
    const chat = user.waitForChat(FOREVER_MS);
    server.sockets[0]?.resetAndDestroy();
    await expect(chat).rejects.toMatchObject({ code: "XMPP_CONNECTION_LOST", reason: "reset" });
    expect(counts.get("xmpp.resumption_failures")).toBe(1);
    expect(counts.get("xmpp.connections_lost")).toBe(1);
    await expect(user.sendChat(2)).rejects.toMatchObject({ phase: "send", reason: "reset" });
  });

  it("does not resume a stream the server ended on purpose (stream error)", async () => {
    const { server, user, counts } = await resumable(
      smServer((_t, sock) => sock.write("<resumed xmlns='urn:xmpp:sm:3' previd='sm-1' h='0'/>")),
    );
    const chat = user.waitForChat(FOREVER_MS);
    server.sockets[0]?.end(
      "<stream:error><policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
    );
    await expect(chat).rejects.toMatchObject({ reason: "stream-error:policy-violation" });
    expect(server.sockets).toHaveLength(1);
    expect(counts.get("xmpp.resumptions")).toBeUndefined();
  });
});
