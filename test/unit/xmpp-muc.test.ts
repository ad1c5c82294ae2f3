/** MUC helpers and groupchat counting against a scripted fake MUC service (the real one: muc-helpers integration). */
import { describe, expect, it } from "vitest";
import { joinRoom } from "../../src/xmpp/muc.js";
import { connectUser } from "../../src/xmpp/session.js";
import { xml } from "../../src/xmpp/xml.js";
import { xmppServer, type FakeServer } from "../helpers/fake-xmpp-server.js";
import { context as xmppContext, serve } from "../helpers/xmpp-user.js";

const ROOM = "r@muc.localhost";

/** A MUC service of one room: joins answered with the self-presence, groupchat reflected to the sender. */
function mucServer(): Promise<FakeServer> {
  return serve(
    xmppServer((text, sock) => {
      for (const m of text.matchAll(/<presence [^>]*to="([^"]+)"[^>]*>/g)) {
        const type = m[0].includes('type="unavailable"') ? " type='unavailable'" : "";
        sock.write(
          `<presence from='${m[1]}'${type}><x xmlns='http://jabber.org/protocol/muc#user'><status code='110'/></x></presence>`,
        );
      }
      for (const m of text.matchAll(/<message [^>]*type="groupchat"[\s\S]*?<\/message>/g))
        sock.write(m[0].replace(/to="[^"]+"/, `from="${ROOM}/user"`));
    }),
  );
}

const context = (url: URL) => xmppContext({ xmpp_servers: [url.href] });

describe("groupchat counting and the MUC helpers", () => {
  it("counts a groupchat message sent with user.send in xmpp.messages_sent and stamps its send time on a copy", async () => {
    const s = await mucServer();
    const { ctx, counts } = context(s.url);
    const user = await connectUser(ctx);
    try {
      const el = xml("message", { to: ROOM, type: "groupchat" }, xml("body", {}, "hi"));
      await user.send(el);
      await user.send(xml("message", { to: ROOM }, xml("received", { xmlns: "urn:xmpp:receipts", id: "x" })));
      expect(counts.get("xmpp.messages_sent")).toBe(1);
      expect(el.getChild("ttd", "urn:amoc-ts:ttd")).toBeUndefined();
      await s.receivedUntil((all) => /type="groupchat"[\s\S]*<ttd xmlns="urn:amoc-ts:ttd" sent="[\d.]+"/.test(all));
      // its echo is told apart from the others' messages by the send time it carries
      await user.waitFor((e) => e.name === "message" && e.attrs.from === `${ROOM}/user`, 5000);
      expect(counts.get("xmpp.groupchat_echoes")).toBe(1);
      expect(counts.get("xmpp.messages_received")).toBeUndefined();
    } finally {
      await user.close();
    }
  });

  it("joins, times the echo of room.groupchat as xmpp.muc_ttd and leaves", async () => {
    const s = await mucServer();
    const { ctx, counts, timings } = context(s.url);
    const user = await connectUser(ctx);
    try {
      const room = await joinRoom(user, ctx, ROOM);
      expect(room.jid).toBe(`${ROOM}/user`);
      expect([...room.occupants]).toEqual([`${ROOM}/user`]);
      const ms = await room.groupchat("hello");
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(timings.get("xmpp.muc_ttd")).toEqual([ms]);
      expect(counts.get("xmpp.messages_sent")).toBe(1);
      await room.leave();
    } finally {
      await user.close();
    }
  });
});
