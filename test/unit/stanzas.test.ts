import { describe, expect, it } from "vitest";
import { IqError, requestIq, type IqSender } from "../../src/xmpp/iq-request.js";
import { NS, iq, iqKind, is, jidMatches } from "../../src/xmpp/stanzas.js";
import { xml, type Element } from "../../src/xmpp/xml.js";
import { StanzaError, XmppError } from "../../src/xmpp/xmpp-error.js";
import { MemorySink } from "../helpers/metrics.js";

const chat = (from: string, body = "hi") => xml("message", { from, type: "chat" }, xml("body", {}, body));

describe("stanza predicates", () => {
  it("is.chat matches chats with a body from a bare JID's any resource, or from the exact full JID", () => {
    expect(is.chat({ from: "a@x" })(chat("a@x/r1"))).toBe(true);
    expect(is.chat({ from: "a@x" })(chat("a@x"))).toBe(true);
    expect(is.chat({ from: "a@x" })(chat("a@xy/r1"))).toBe(false);
    expect(is.chat({ from: "a@x/r1" })(chat("a@x/r2"))).toBe(false);
    expect(
      is.chat()(xml("message", { from: "a@x", type: "chat" }, xml("received", { xmlns: NS.RECEIPTS, id: "1" }))),
    ).toBe(false);
    expect(is.chat()(xml("message", { from: "a@x", type: "error" }, xml("body", {}, "b")))).toBe(false);
  });

  it("is.presence tells available (no type) from other types and filters by sender", () => {
    const avail = xml("presence", { from: "b@x/r" });
    const sub = xml("presence", { from: "b@x", type: "subscribe" });
    expect(is.presence({ from: "b@x", type: "available" })(avail)).toBe(true);
    expect(is.presence({ type: "available" })(sub)).toBe(false);
    expect(is.presence({ type: "subscribe" })(sub)).toBe(true);
    expect(is.presence()(sub)).toBe(true);
    expect(is.presence({ from: "c@x" })(avail)).toBe(false);
  });

  it("is.iqResult and is.iqError match the reply to one id", () => {
    const res = xml("iq", { type: "result", id: "q1" });
    expect(is.iqResult("q1")(res)).toBe(true);
    expect(is.iqResult("q2")(res)).toBe(false);
    expect(is.iqError("q1")(res)).toBe(false);
    expect(is.iqError("q1")(xml("iq", { type: "error", id: "q1" }))).toBe(true);
  });

  it("is.receipt, is.rosterPush and is.pubsubEvent find their payloads", () => {
    expect(
      is.receipt({ id: "m1" })(xml("message", { from: "a@x/r" }, xml("received", { xmlns: NS.RECEIPTS, id: "m1" }))),
    ).toBe(true);
    expect(
      is.receipt({ id: "m2" })(xml("message", { from: "a@x/r" }, xml("received", { xmlns: NS.RECEIPTS, id: "m1" }))),
    ).toBe(false);
    const push = xml(
      "iq",
      { type: "set", id: "p" },
      xml("query", { xmlns: NS.ROSTER }, xml("item", { jid: "b@x", subscription: "none" })),
    );
    expect(is.rosterPush({ jid: "b@x" })(push)).toBe(true);
    expect(is.rosterPush({ jid: "c@x" })(push)).toBe(false);
    const ev = xml(
      "message",
      { from: "p@x" },
      xml("event", { xmlns: NS.PUBSUB_EVENT }, xml("items", { node: "n" }, xml("item", { id: "1" }))),
    );
    expect(is.pubsubEvent({ from: "p@x", node: "n" })(ev)).toBe(true);
    expect(is.pubsubEvent({ node: "other" })(ev)).toBe(false);
    expect(is.all(is.message(), is.having("event", NS.PUBSUB_EVENT))(ev)).toBe(true);
  });

  it("jidMatches compares bare JIDs against full ones and nothing else", () => {
    expect(jidMatches("a@x/r", "a@x")).toBe(true);
    expect(jidMatches(undefined, "a@x")).toBe(false);
    expect(jidMatches("a@x.org/r", "a@x")).toBe(false);
  });
});

describe("IQ builders", () => {
  it("iq.get and iq.set carry a fresh id, the type, the child, and `to` only when given", () => {
    const a = iq.get("localhost", xml("ping", { xmlns: NS.PING }));
    const b = iq.set(undefined, xml("query", { xmlns: NS.ROSTER }));
    expect(a.attrs).toMatchObject({ type: "get", to: "localhost" });
    expect(b.attrs.type).toBe("set");
    expect(b.attrs.to).toBeUndefined();
    expect(a.attrs.id).not.toBe(b.attrs.id);
    expect(a.getChild("ping", NS.PING)).toBeDefined();
  });

  it("iq.result answers a request to its sender with its id", () => {
    const r = iq.result(xml("iq", { type: "get", id: "s1", from: "localhost" }, xml("ping", { xmlns: NS.PING })));
    expect(r.attrs).toEqual({ type: "result", id: "s1", to: "localhost" });
  });

  it("iqKind names an IQ by its payload's namespace, else by its name", () => {
    expect(iqKind(iq.get("h", xml("ping", { xmlns: NS.PING })))).toBe("ping");
    expect(iqKind(iq.get(undefined, xml("query", { xmlns: NS.ROSTER })))).toBe("roster");
    expect(iqKind(iq.set(undefined, xml("query", { xmlns: NS.MAM })))).toBe("mam");
    expect(iqKind(iq.get("h", xml("vCard", { xmlns: "vcard-temp" })))).toBe("vCard");
    expect(iqKind(xml("iq", { type: "get" }))).toBe("empty");
  });
});

/** A user whose IQ round trip answers with `answer`. */
const sender = (answer: (el: Element) => Promise<Element>): IqSender => ({ iq: (el) => answer(el) });

describe("requestIq", () => {
  it("resolves with the result and times it under the IQ's kind", async () => {
    const m = new MemorySink();
    const req = iq.get("localhost", xml("ping", { xmlns: NS.PING }));
    const res = await requestIq(
      sender(async (el) => xml("iq", { type: "result", id: String(el.attrs.id) })),
      m,
      req,
      1000,
    );
    expect(res.attrs.type).toBe("result");
    expect(m.calls.map((c) => `${c.kind} ${c.name}`)).toEqual(["timing xmpp.iq.ping"]);
  });

  it("rejects an error reply with an IqError carrying the condition, counted per kind", async () => {
    const m = new MemorySink();
    const req = iq.get(undefined, xml("query", { xmlns: NS.MAM }));
    const reply = xml(
      "iq",
      { type: "error", id: String(req.attrs.id) },
      xml("error", { type: "cancel" }, xml("service-unavailable", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" })),
    );
    const err = await requestIq(
      sender(() => Promise.reject(StanzaError.fromIq(reply))),
      m,
      req,
      1000,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IqError);
    expect(err).toBeInstanceOf(XmppError);
    expect(err).toMatchObject({ code: "XMPP_STANZA_ERROR", condition: "service-unavailable", kind: "mam" });
    expect((err as IqError).hint).toMatch(/module/);
    expect(m.total("xmpp.iq_errors.mam")).toBe(1);
  });

  it("counts a timeout per kind and passes the timeout error on", async () => {
    const m = new MemorySink();
    const timeout = new XmppError("XMPP_STANZA_TIMEOUT", "iq", "stanza_timeout", "no reply", "raise it");
    const err = await requestIq(
      sender(() => Promise.reject(timeout)),
      m,
      iq.get("h", xml("ping", { xmlns: NS.PING })),
      5,
    ).catch((e: unknown) => e);
    expect(err).toBe(timeout);
    expect(m.total("xmpp.iq_timeouts.ping")).toBe(1);
    expect(m.calls.some((c) => c.kind === "timing")).toBe(false);
  });

  it("takes an explicit kind over the derived one", async () => {
    const m = new MemorySink();
    await requestIq(
      sender(async (el) => xml("iq", { type: "result", id: String(el.attrs.id) })),
      m,
      iq.get("h", xml("ping", { xmlns: NS.PING })),
      1000,
      "server_ping",
    );
    expect(m.calls[0]?.name).toBe("xmpp.iq.server_ping");
  });
});
