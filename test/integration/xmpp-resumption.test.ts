/**
 * XEP-0198 resumption against the real ejabberd (scripts/servers.sh, the test run's c2s port, mod_stream_mgmt): the client's socket is
 * cut by a TCP proxy in between, and the stream resumes through a new one without losing a stanza either way.
 */
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { ConnectionOptions } from "../../src/xmpp/connection-options.js";
import { XmppConnection } from "../../src/xmpp/connection.js";
import { xml, type Element } from "../../src/xmpp/xml.js";
import { endpoints } from "../helpers/endpoints.js";

const EJABBERD = { host: "127.0.0.1", port: endpoints().ejabberd.c2s };
/** Bounds each wait: far above what a resumption on loopback takes. */
const WAIT_MS = 15_000;

/** A TCP proxy to ejabberd whose connections the test can cut. */
async function proxy(): Promise<{ url: string; cut(): void; connections: () => number; close(): Promise<void> }> {
  const pairs: Array<[net.Socket, net.Socket]> = [];
  let connections = 0;
  const server = net.createServer((client) => {
    connections++;
    const upstream = net.connect(EJABBERD);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.destroy());
    upstream.on("close", () => client.destroy());
    pairs.push([client, upstream]);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `xmpp://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut: () => {
      for (const [c, u] of pairs.splice(0)) {
        c.resetAndDestroy();
        u.destroy();
      }
    },
    connections: () => connections,
    close: () =>
      new Promise<void>((r) => {
        for (const [c, u] of pairs.splice(0)) (c.destroy(), u.destroy());
        server.close(() => r());
      }),
  };
}

function options(service: string, user: number): ConnectionOptions {
  return {
    service: new URL(service),
    domain: "localhost",
    username: `user_${user}`,
    password: `password_${user}`,
    resource: "resume-test",
    mechanism: "PLAIN",
    timeoutMs: 10_000,
    starttls: false,
    streamManagement: true,
    tlsVerify: false,
  };
}

/** A stanza handler whose `next(pred)` resolves with the first stanza (received or arriving) matching `pred`. */
function inbox() {
  const got: Element[] = [];
  const waits: Array<{ pred: (el: Element) => boolean; resolve: (el: Element) => void }> = [];
  return {
    onStanza(el: Element) {
      got.push(el);
      const i = waits.findIndex((w) => w.pred(el));
      if (i >= 0) waits.splice(i, 1)[0]?.resolve(el);
    },
    next(pred: (el: Element) => boolean, what: string): Promise<Element> {
      const el = got.find(pred);
      if (el) return Promise.resolve(el);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${what} within ${WAIT_MS} ms`)), WAIT_MS);
        waits.push({ pred, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      });
    },
  };
}

const chat = (to: string, body: string) => xml("message", { to, type: "chat" }, xml("body", {}, body));
const bodyIs = (body: string) => (el: Element) => el.name === "message" && el.getChildText("body") === body;

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe("XEP-0198 resumption against ejabberd", () => {
  it("resumes a stream whose socket was cut: stanzas sent either way across the cut all arrive, on the same JID", async () => {
    const p = await proxy();
    cleanup.push(() => p.close());
    const a = new XmppConnection(options(p.url, 1995));
    const b = new XmppConnection(options(`xmpp://${EJABBERD.host}:${EJABBERD.port}`, 1996));
    const aIn = inbox();
    const bIn = inbox();
    a.handler = aIn;
    b.handler = bIn;
    await Promise.all([a.start(), b.start()]);
    cleanup.push(
      () => a.close(5000),
      () => b.close(5000),
    );
    expect(a.resumable).toBe(true);
    const aJid = a.jid;

    // an exchange before the cut, so both directions have been acknowledged once
    b.send(chat(aJid, "b1"));
    await aIn.next(bodyIs("b1"), "b1 at a");

    p.cut();
    // sent by a across the cut (into the dead socket, or queued while resuming) and to a while it is away
    a.send(chat(b.jid, "a1"));
    b.send(chat(aJid, "b2"));
    await bIn.next(bodyIs("a1"), "a1 at b, sent again after resuming");
    await aIn.next(bodyIs("b2"), "b2 at a, kept by the server for the resumed stream");
    expect(a.status).toBe("online");
    expect(a.resumptions).toBe(1);
    expect(a.jid).toBe(aJid);
    expect(p.connections()).toBe(2);

    // and the resumed stream carries on as before
    a.send(chat(b.jid, "a2"));
    await bIn.next(bodyIs("a2"), "a2 at b");
  });
});
