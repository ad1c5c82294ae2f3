/** XmppConnection against a scripted fake XMPP server on a random loopback port. */
import { afterEach, describe, expect, it } from "vitest";
import { TimeoutError } from "../../src/errors.js";
import type { ConnectionOptions } from "../../src/xmpp/connection-options.js";
import { XmppConnection } from "../../src/xmpp/connection.js";
import { xml, type Element } from "../../src/xmpp/xml.js";
import {
  HEADER,
  MECHS,
  serve as startServer,
  xmppServer,
  type FakeServer,
  type Script,
} from "../helpers/fake-xmpp-server.js";

const servers: FakeServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function serve(script: Script): Promise<FakeServer> {
  const s = await startServer(script);
  servers.push(s);
  return s;
}

function options(url: URL, over: Partial<ConnectionOptions> = {}): ConnectionOptions {
  return {
    service: url,
    domain: "localhost",
    username: "user",
    password: "pw",
    resource: "r",
    mechanism: "PLAIN",
    timeoutMs: 2000,
    starttls: false,
    streamManagement: false,
    tlsVerify: false,
    ...over,
  };
}

/** A stanza handler whose `next(pred)` resolves with the first stanza (received or arriving) matching `pred`. */
function collector() {
  const got: Element[] = [];
  const waits: Array<{ pred: (el: Element) => boolean; resolve: (el: Element) => void }> = [];
  return {
    got,
    onStanza(el: Element) {
      got.push(el);
      const i = waits.findIndex((w) => w.pred(el));
      if (i >= 0) waits.splice(i, 1)[0]?.resolve(el);
    },
    next(pred: (el: Element) => boolean): Promise<Element> {
      const el = got.find(pred);
      return el ? Promise.resolve(el) : new Promise((resolve) => waits.push({ pred, resolve }));
    },
  };
}

describe("XmppConnection", () => {
  it("logs in with PLAIN, binds, delivers stanzas, answers pings, refuses other IQs, and closes cleanly", async () => {
    let rest: (() => void) | undefined;
    const { url, received } = await serve(
      xmppServer((text, sock) => {
        if (text.includes("<presence")) {
          sock.write("<iq type='get' id='p1' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
          sock.write("<iq type='get' id='v1' from='localhost'><query xmlns='jabber:iq:version'/></iq>");
          // a two-byte character split across two writes: the second goes out once the client has handled the first
          const msg = Buffer.from(
            "<message id='first'/><message from='peer@localhost/x' type='chat'><body>é</body></message>",
          );
          const cut = msg.indexOf(0xc3) + 1;
          sock.write(msg.subarray(0, cut));
          rest = () => sock.write(msg.subarray(cut));
        }
      }),
    );
    const c = new XmppConnection(options(url));
    const h = collector();
    c.handler = h;
    await c.start();
    expect(c.status).toBe("online");
    expect(c.jid).toBe("user@localhost/r");
    c.sendText("<presence/>", true);
    await h.next((e) => e.attrs.id === "first");
    rest?.();
    const chat = await h.next((e) => e.name === "message" && e.attrs.type === "chat");
    expect(chat.getChildText("body")).toBe("é");
    const sent = received.join("");
    expect(sent).toMatch(/<iq to="localhost" id="p1" type="result"\/>/);
    expect(sent).toMatch(
      /<iq to="localhost" id="v1" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/><\/error><\/iq>/,
    );
    await c.close(1000);
    expect(c.status).toBe("closed");
    expect(received.at(-1)).toBe("</stream:stream>");
  });

  it("rejects a wrong password with a SASLError carrying the condition", async () => {
    const { url } = await serve(xmppServer());
    const err = await new XmppConnection(options(url, { password: "nope" })).start().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "SASLError", condition: "not-authorized" });
  });

  it("rejects when the server does not offer the wanted mechanism", async () => {
    const { url } = await serve(xmppServer());
    const err = await new XmppConnection(options(url, { mechanism: "SCRAM-SHA-1" })).start().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "SASLError" });
    expect(String((err as Error).message)).toMatch(/does not offer SASL SCRAM-SHA-1/);
  });

  it("rejects a stream error with its condition", async () => {
    const { url } = await serve((text, sock) => {
      if (text.includes("<stream:stream"))
        sock.write(
          HEADER +
            "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
        );
    });
    const err = await new XmppConnection(options(url)).start().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "StreamError", condition: "host-unknown" });
  });

  it("rejects with the stream error a server sends in a new stream of its own right after SASL success", async () => {
    const { url } = await serve((text, sock) => {
      if (text.includes("<stream:stream")) sock.write(HEADER + MECHS);
      else if (text.includes("<auth"))
        sock.write(
          "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" +
            HEADER +
            "<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
        );
    });
    const err = await new XmppConnection(options(url)).start().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "StreamError", condition: "system-shutdown" });
  });

  it("gives up a login the server never answers after timeoutMs, with a TimeoutError", async () => {
    const { url } = await serve(() => {});
    const err = await new XmppConnection(options(url, { timeoutMs: 200 })).start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
  });

  it("matches IQ answers to requests: results resolve, errors reject with the stanza condition, silence times out", async () => {
    const { url } = await serve(
      xmppServer((text, sock) => {
        const id = /id="([^"]+)"/.exec(text)?.[1];
        if (text.includes("jabber:iq:roster"))
          sock.write(`<iq type='result' id='${id}'><query xmlns='jabber:iq:roster'/></iq>`);
        else if (text.includes("jabber:iq:private"))
          sock.write(
            `<iq type='error' id='${id}'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`,
          );
      }),
    );
    const c = new XmppConnection(options(url));
    await c.start();
    const res = await c.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })), 1000);
    expect(res.attrs.type).toBe("result");
    await expect(
      c.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:private" })), 1000),
    ).rejects.toMatchObject({ name: "StanzaError", condition: "item-not-found" });
    await expect(c.request(xml("iq", { type: "get" }, xml("query", { xmlns: "urn:none" })), 50)).rejects.toBeInstanceOf(
      TimeoutError,
    );
    await c.close(1000);
  });

  it("enables stream management when asked and offered, and answers the server's ack requests", async () => {
    const { url, receivedUntil } = await serve((text, sock, st) => {
      if (text.includes("<stream:stream")) {
        st.streams++;
        sock.write(
          HEADER +
            (st.streams === 1
              ? MECHS
              : `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>`),
        );
      } else if (text.includes("<auth")) sock.write("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
      else if (text.includes("<bind"))
        sock.write(
          "<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@localhost/r</jid></bind></iq>",
        );
      else if (text.includes("<enable"))
        sock.write(
          "<enabled xmlns='urn:xmpp:sm:3' id='sm1' resume='true'/><message from='a@localhost'><body>1</body></message><r xmlns='urn:xmpp:sm:3'/>",
        );
    });
    const c = new XmppConnection(options(url, { streamManagement: true }));
    await c.start();
    c.handler = { onStanza: () => {} };
    await receivedUntil((all) => all.includes("<a xmlns='urn:xmpp:sm:3' h='1'/>"));
    c.destroy();
  });
});
