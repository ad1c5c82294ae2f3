/** The BOSH transport (XEP-0124/0206) under XmppConnection, against a tiny fake BOSH server on 127.0.0.1. */
import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { xmppServerProblem } from "../../src/config/addresses.js";
import { BoshTransport } from "../../src/xmpp/bosh-transport.js";
import type { ConnectionOptions } from "../../src/xmpp/connection-options.js";
import { XmppConnection } from "../../src/xmpp/connection.js";
import { xml, type Element } from "../../src/xmpp/xml.js";
import { StreamError, lostReason } from "../../src/xmpp/xmpp-error.js";
import {
  fakeBosh as startFakeBosh,
  FEATURES_BIND,
  FEATURES_SASL,
  NS,
  reply,
  type Answer,
  type FakeBosh,
  type Seen,
} from "../helpers/fake-bosh-server.js";

/** Resolves once `cond()` holds, checked after each turn of the event loop. */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

const fakes: FakeBosh[] = [];
const conns: XmppConnection[] = [];
afterEach(async () => {
  for (const c of conns.splice(0)) c.destroy();
  for (const f of fakes.splice(0)) await f.close();
});

/** A fake BOSH server closed after the test (test/helpers/fake-bosh-server.ts). */
async function fakeBosh(answer?: Answer): Promise<FakeBosh> {
  const f = await startFakeBosh(answer);
  fakes.push(f);
  return f;
}

function connection(url: URL, over: Partial<ConnectionOptions> = {}): XmppConnection {
  const c = new XmppConnection({
    service: url,
    domain: "localhost",
    username: "user",
    password: "pw",
    resource: "r",
    mechanism: "PLAIN",
    timeoutMs: 5000,
    starttls: true,
    streamManagement: false,
    tlsVerify: false,
    ...over,
  });
  conns.push(c);
  return c;
}

/** A handler that records stanzas and resolves `first(n)` once `n` have come. */
function recorder() {
  const got: Element[] = [];
  let want: { n: number; resolve: () => void } | null = null;
  let lost: Error | null = null;
  return {
    got,
    get lost() {
      return lost;
    },
    onStanza(el: Element) {
      got.push(el);
      if (want && got.length >= want.n) want.resolve();
    },
    onConnectionLost(cause: Error) {
      lost = cause;
    },
    first(n: number): Promise<void> {
      return got.length >= n ? Promise.resolve() : new Promise((resolve) => (want = { n, resolve }));
    },
  };
}

describe("BOSH transport", () => {
  it("creates a session with hold=1, logs in with a restart after SASL, and numbers requests one by one", async () => {
    const f = await fakeBosh();
    const c = connection(f.url);
    await c.start();
    expect(c.status).toBe("online");
    expect(c.jid).toBe("user@localhost/r");
    expect(c.framed).toBe(true); // stanzas name jabber:client themselves
    expect(c.isSecure()).toBe(false);

    const create = f.seen[0] as Seen;
    expect(create.attrs).toMatchObject({
      hold: "1",
      ver: "1.6",
      to: "localhost",
      "xmpp:version": "1.0",
      xmlns: NS,
      "xmlns:xmpp": "urn:xmpp:xbosh",
    });
    expect(Number(create.attrs.wait)).toBeGreaterThan(0);
    expect(create.attrs.sid).toBeUndefined();
    expect(f.seen.slice(1).every((s) => s.attrs.sid === "s1")).toBe(true);
    // no STARTTLS over BOSH even when asked for; the restart follows the SASL success
    expect(f.seen.some((s) => s.body.includes("starttls"))).toBe(false);
    const auth = f.seen.findIndex((s) => s.body.includes("<auth "));
    const restart = f.seen.findIndex((s) => s.attrs["xmpp:restart"] === "true");
    expect(auth).toBeGreaterThan(0);
    expect(restart).toBeGreaterThan(auth);
    expect(f.seen[restart]?.attrs).toMatchObject({ to: "localhost", "xmlns:xmpp": "urn:xmpp:xbosh" });

    c.send(xml("message", { to: "peer@localhost", id: "m1" }, xml("body", {}, "hi")));
    const sent = await f.arrived((s) => s.body.includes('id="m1"'));
    expect(sent.body).toContain(`<message to="peer@localhost" id="m1" xmlns="jabber:client">`);
    const rids = f.seen.map((s) => s.rid).sort((a, b) => a - b);
    expect(rids.every((r, i) => i === 0 || r === (rids[i - 1] as number) + 1)).toBe(true);
    expect(f.maxInFlight).toBeLessThanOrEqual(2);
  });

  it("reads the new stream's features from whichever request the server answers after the restart (Prosody: the held one)", async () => {
    const f = await fakeBosh((s, res, takeHeld) => {
      if (s.attrs["xmpp:restart"] !== "true") return false;
      const held = takeHeld();
      if (!held) throw new Error("no request held when the restart came");
      reply(held, FEATURES_BIND);
      reply(res);
      return true;
    });
    const texts: string[] = [];
    const t = BoshTransport.open(
      f.url,
      { domain: "localhost", tlsVerify: false, handshakeTimeoutMs: 1000, mayUpgrade: false },
      { onText: (x) => texts.push(x), onTransportClose: () => {} },
    );
    await t.ready();
    t.write(
      "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
    );
    // the session exists and the server holds the empty request the transport keeps pending
    await f.arrived((s) => s.attrs.sid === "s1");
    t.write(
      "<?xml version='1.0'?><stream:stream to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>",
    );
    await until(() => texts.length === 4);
    expect(texts[0]).toMatch(/^<stream:stream /);
    expect(texts[1]).toBe(FEATURES_SASL);
    expect(texts[2]).toMatch(/^<stream:stream /);
    expect(texts[3]).toBe(FEATURES_BIND);
    t.destroy();
  });

  it("hands the server's pushes on in rid order even when the later request is answered first", async () => {
    let earlier: http.ServerResponse | null = null;
    const f = await fakeBosh((s, res, takeHeld) => {
      if (!s.body.includes('id="go"')) return false;
      // answer the later request (the one carrying 'go') at once; the held earlier one stays held for now
      earlier = takeHeld();
      reply(res, "<message id='second' xmlns='jabber:client'/>");
      return true;
    });
    const c = connection(f.url);
    const h = recorder();
    c.handler = h;
    await c.start();
    await f.arrived(
      (s) => s.attrs.sid === "s1" && s.rid > (f.seen.find((x) => x.body.includes("id='bind'"))?.rid ?? Infinity),
    );
    c.send(xml("message", { id: "go" }));
    await f.arrived((s) => s.body.includes('id="go"'));
    // the later answer has arrived and waits for the earlier one
    const transport = (c as unknown as { transport: { parked: unknown } }).transport;
    await until(() => transport.parked !== null);
    expect(h.got).toEqual([]);
    expect(earlier).not.toBeNull();
    reply(earlier as unknown as http.ServerResponse, "<message id='first' xmlns='jabber:client'/>");
    await h.first(2);
    expect(h.got.map((el) => el.attrs.id)).toEqual(["first", "second"]);
  });

  it("rejects a pending IQ at once when the server terminates the session, with the condition as the lost reason", async () => {
    const f = await fakeBosh();
    const c = connection(f.url);
    const h = recorder();
    c.handler = h;
    await c.start();
    const iq = c.request(xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: "urn:xmpp:ping" })), 60_000);
    await f.arrived((s) => s.body.includes("urn:xmpp:ping"));
    await f.push("", " type='terminate' condition='system-shutdown'");
    const e = await iq.then(
      () => null,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(StreamError);
    expect(lostReason(e)).toBe("stream-error:system-shutdown");
    expect(c.status).toBe("closed");
    expect(h.lost).toBe(e);
  });

  it("reports an HTTP error status as a lost connection and rejects what waits", async () => {
    let fail = false;
    const f = await fakeBosh((s, res) => {
      if (!fail || !s.body.includes("urn:xmpp:ping")) return false;
      res.writeHead(404).end();
      return true;
    });
    const c = connection(f.url);
    const h = recorder();
    c.handler = h;
    await c.start();
    fail = true;
    await expect(
      c.request(xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: "urn:xmpp:ping" })), 60_000),
    ).rejects.toThrow(/HTTP 404/);
    expect(lostReason(h.lost)).toBe("closed");
  });

  it("close() terminates the session and the connection ends closed, not lost", async () => {
    const f = await fakeBosh();
    const c = connection(f.url);
    const h = recorder();
    c.handler = h;
    await c.start();
    await c.close(5000);
    const term = f.seen.find((s) => s.attrs.type === "terminate");
    expect(term?.attrs.sid).toBe("s1");
    expect(term?.body).toContain("type='unavailable'");
    expect(c.status).toBe("closed");
    expect(h.lost).toBeNull();
    expect(c.lostCause).toBeNull();
  });

  it("fails the login with the connect error when nothing listens", async () => {
    const f = await fakeBosh();
    const url = new URL(f.url.href);
    await f.close();
    fakes.length = 0;
    const c = connection(url);
    await expect(c.start()).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("xmpp_servers accepts http(s) URLs with a path as BOSH endpoints", () => {
    expect(xmppServerProblem("http://127.0.0.1:5280/http-bind")).toBeUndefined();
    expect(xmppServerProblem("https://xmpp.example.com/bosh")).toBeUndefined();
    expect(xmppServerProblem("http://127.0.0.1:5280")).toMatch(/BOSH entry .* has no path/);
  });
});
