/** An online XmppUser whose connection the fake server ends: every wait and send sees the loss's reason. */
import { describe, expect, it } from "vitest";
import { xml } from "../../src/xmpp/xml.js";
import type { FakeServer } from "../helpers/fake-xmpp-server.js";
import { FOREVER_MS, online, serve } from "../helpers/xmpp-user.js";

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
