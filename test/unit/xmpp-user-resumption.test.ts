/** XmppUser with stream management (XEP-0198) against a scripted fake server: resuming after a drop, or not. */
import { describe, expect, it } from "vitest";
import { connectUser } from "../../src/xmpp/session.js";
import { HEADER, type Script } from "../helpers/fake-xmpp-server.js";
import { context, FOREVER_MS, serve } from "../helpers/xmpp-user.js";

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
