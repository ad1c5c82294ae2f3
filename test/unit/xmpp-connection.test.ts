/** XmppConnection against a scripted fake XMPP server on a random loopback port. */
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { TimeoutError } from "../../src/errors.js";
import { XmppConnection, type ConnectionOptions } from "../../src/xmpp/connection.js";
import { xml, type Element } from "../../src/xmpp/xml.js";

const HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='f1' from='localhost' version='1.0'>`;
const MECHS = `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`;
const BOUND = `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`;

/** What the fake server does with what the client sends (one callback per chunk, text accumulated per socket). */
type Script = (text: string, sock: net.Socket, state: { streams: number; seen: string }) => void;

/** A minimal server: stream headers, PLAIN for user/pw, binding; `extra` handles everything else. */
function xmppServer(extra: Script = () => {}): Script {
  return (text, sock, st) => {
    if (text.includes("<stream:stream")) {
      st.streams++;
      sock.write(HEADER + (st.streams === 1 ? MECHS : BOUND));
    } else if (text.includes("<auth")) {
      const creds = Buffer.from(/>([^<]*)</.exec(text)?.[1] ?? "", "base64").toString();
      sock.write(creds === "\0user\0pw" ? "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>" : "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text>bad</text></failure>");
    } else if (text.includes("<bind")) {
      sock.write("<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@localhost/r</jid></bind></iq>");
    } else if (text.includes("</stream:stream>")) {
      sock.end("</stream:stream>");
    } else extra(text, sock, st);
  };
}

const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function serve(script: Script): Promise<{ url: URL; received: string[] }> {
  const received: string[] = [];
  const server = net.createServer((sock) => {
    const st = { streams: 0, seen: "" };
    sock.on("data", (d) => {
      const text = d.toString();
      received.push(text);
      script(text, sock, st);
    });
    sock.on("error", () => {});
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: new URL(`xmpp://127.0.0.1:${(server.address() as net.AddressInfo).port}`), received };
}

function options(url: URL, over: Partial<ConnectionOptions> = {}): ConnectionOptions {
  return { service: url, domain: "localhost", username: "user", password: "pw", resource: "r", mechanism: "PLAIN", timeoutMs: 2000, starttls: false, streamManagement: false, tlsVerify: false, ...over };
}

const until = async (f: () => boolean, what: string) => {
  const t = Date.now() + 2000;
  while (!f()) {
    if (Date.now() > t) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe("XmppConnection", () => {
  it("logs in with PLAIN, binds, delivers stanzas, answers pings, refuses other IQs, and closes cleanly", async () => {
    const { url, received } = await serve(
      xmppServer((text, sock) => {
        if (text.includes("<presence")) {
          sock.write("<iq type='get' id='p1' from='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
          sock.write("<iq type='get' id='v1' from='localhost'><query xmlns='jabber:iq:version'/></iq>");
          // a two-byte character split across two writes
          const msg = Buffer.from("<message from='peer@localhost/x' type='chat'><body>é</body></message>");
          const cut = msg.indexOf(0xc3) + 1;
          sock.write(msg.subarray(0, cut));
          setTimeout(() => sock.write(msg.subarray(cut)), 20);
        }
      }),
    );
    const c = new XmppConnection(options(url));
    const got: Element[] = [];
    c.handler = { onStanza: (el) => got.push(el) };
    await c.start();
    expect(c.status).toBe("online");
    expect(c.jid).toBe("user@localhost/r");
    c.sendText("<presence/>", true);
    await until(() => got.some((e) => e.name === "message"), "the chat");
    expect(got.find((e) => e.name === "message")?.getChildText("body")).toBe("é");
    const sent = received.join("");
    expect(sent).toMatch(/<iq to="localhost" id="p1" type="result"\/>/);
    expect(sent).toMatch(/<iq to="localhost" id="v1" type="error"><error type="cancel"><service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"\/><\/error><\/iq>/);
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
      if (text.includes("<stream:stream")) sock.write(HEADER + "<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>");
    });
    const err = await new XmppConnection(options(url)).start().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "StreamError", condition: "host-unknown" });
  });

  it("gives up a login the server never answers after timeoutMs, with a TimeoutError", async () => {
    const { url } = await serve(() => {});
    const t0 = Date.now();
    const err = await new XmppConnection(options(url, { timeoutMs: 200 })).start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it("matches IQ answers to requests: results resolve, errors reject with the stanza condition, silence times out", async () => {
    const { url } = await serve(
      xmppServer((text, sock) => {
        const id = /id="([^"]+)"/.exec(text)?.[1];
        if (text.includes("jabber:iq:roster")) sock.write(`<iq type='result' id='${id}'><query xmlns='jabber:iq:roster'/></iq>`);
        else if (text.includes("jabber:iq:private")) sock.write(`<iq type='error' id='${id}'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`);
      }),
    );
    const c = new XmppConnection(options(url));
    await c.start();
    const res = await c.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })), 1000);
    expect(res.attrs.type).toBe("result");
    await expect(c.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:private" })), 1000)).rejects.toMatchObject({ name: "StanzaError", condition: "item-not-found" });
    await expect(c.request(xml("iq", { type: "get" }, xml("query", { xmlns: "urn:none" })), 50)).rejects.toBeInstanceOf(TimeoutError);
    await c.close(1000);
  });

  it("enables stream management when asked and offered, and answers the server's ack requests", async () => {
    const { url, received } = await serve((text, sock, st) => {
      if (text.includes("<stream:stream")) {
        st.streams++;
        sock.write(HEADER + (st.streams === 1 ? MECHS : `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>`));
      } else if (text.includes("<auth")) sock.write("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
      else if (text.includes("<bind")) sock.write("<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@localhost/r</jid></bind></iq>");
      else if (text.includes("<enable")) sock.write("<enabled xmlns='urn:xmpp:sm:3' id='sm1' resume='true'/><message from='a@localhost'><body>1</body></message><r xmlns='urn:xmpp:sm:3'/>");
    });
    const c = new XmppConnection(options(url, { streamManagement: true }));
    await c.start();
    c.handler = { onStanza: () => {} };
    await until(() => received.join("").includes("<a xmlns='urn:xmpp:sm:3' h='1'/>"), "the ack");
    c.destroy();
  });
});
