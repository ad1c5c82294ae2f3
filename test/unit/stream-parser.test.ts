import { describe, expect, it } from "vitest";
import { STREAM_ROOT, StreamParser, type ParserSink } from "../../src/xmpp/stream-parser.js";
import { serialize } from "../../src/xmpp/serialize.js";
import { xml, type Element } from "../../src/xmpp/xml.js";

function collect(framed = false) {
  const got = { starts: [] as Element[], elements: [] as Element[], ends: 0, errors: [] as Error[] };
  const sink: ParserSink = {
    streamStart: (h) => got.starts.push(h),
    element: (el) => got.elements.push(el),
    streamEnd: () => got.ends++,
    parseError: (e) => got.errors.push(e),
  };
  return { got, parser: new StreamParser(sink, framed) };
}

const HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='s1' from='localhost' version='1.0'>`;

describe("StreamParser", () => {
  it("delivers the stream header, each top-level element with its children, and the end", () => {
    const { got, parser } = collect();
    parser.write(HEADER + `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`);
    parser.write(`<message from="a@localhost/r" type='chat'><body>hi &amp; bye &lt;3</body></message></stream:stream>`);
    expect(got.errors).toEqual([]);
    expect(got.starts[0]?.attrs).toMatchObject({ id: "s1", version: "1.0" });
    expect(got.elements.map((e) => e.name)).toEqual(["stream:features", "message"]);
    const [features, msg] = got.elements as [Element, Element];
    expect(features.is("features", "http://etherx.jabber.org/streams")).toBe(true);
    expect(features.getChild("bind", "urn:ietf:params:xml:ns:xmpp-bind")).toBeDefined();
    expect(msg.is("message", "jabber:client")).toBe(true);
    expect(msg.parent).toBe(STREAM_ROOT);
    expect(msg.attrs).toEqual({ from: "a@localhost/r", type: "chat" });
    expect(msg.getChildText("body")).toBe("hi & bye <3");
    expect(got.ends).toBe(1);
  });

  it("gives the same elements whatever the chunking, one character at a time included", () => {
    const text =
      HEADER +
      `<presence from='x@y/z'><c xmlns="caps" ver='a&gt;b' node="n/"/></presence><message to='b'><body>é ü 漢</body></message>`;
    const whole = collect();
    whole.parser.write(text);
    const bytes = collect();
    for (const ch of text) bytes.parser.write(ch);
    expect(bytes.got.errors).toEqual([]);
    expect(bytes.got.elements.map(serialize)).toEqual(whole.got.elements.map(serialize));
    expect(whole.got.elements[0]?.getChild("c")?.attrs).toEqual({ xmlns: "caps", ver: "a>b", node: "n/" });
    expect(whole.got.elements[1]?.getChildText("body")).toBe("é ü 漢");
  });

  it("accepts > inside attribute values, CDATA, comments and blank keepalives between stanzas", () => {
    const { got, parser } = collect();
    parser.write(HEADER + " \n <!-- hello --><iq id='a>b' type='get'><![CDATA[<raw>]]></iq>  ");
    expect(got.errors).toEqual([]);
    expect(got.elements[0]?.attrs.id).toBe("a>b");
    expect(got.elements[0]?.getText()).toBe("<raw>");
  });

  it("reports mismatched tags, text outside elements and DTDs as errors and stops", () => {
    for (const bad of ["<a></b>", "junk", "<!DOCTYPE x [<!ENTITY e 'x'>]>", "<a b=c/>"]) {
      const { got, parser } = collect();
      parser.write(HEADER + bad);
      expect(got.errors.length, bad).toBe(1);
      parser.write("<ok/>");
      expect(got.elements, bad).toEqual([]);
    }
  });

  it("in framed mode (WebSocket) treats <open/> and <close/> as the stream's start and end", () => {
    const { got, parser } = collect(true);
    parser.write(`<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" from="localhost" id="w1" version="1.0"/>`);
    parser.write(
      `<stream:features xmlns:stream="http://etherx.jabber.org/streams"><mechanisms xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/></stream:features>`,
    );
    parser.write(`<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`);
    expect(got.starts[0]?.attrs.id).toBe("w1");
    expect(got.elements[0]?.is("features", "http://etherx.jabber.org/streams")).toBe(true);
    expect(got.ends).toBe(1);
  });

  it("starts over after reset (stream restart after SASL)", () => {
    const { got, parser } = collect();
    parser.write(HEADER + "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    parser.reset();
    parser.write(HEADER + "<stream:features/>");
    expect(got.starts.length).toBe(2);
    expect(got.elements.map((e) => e.name)).toEqual(["success", "stream:features"]);
  });
});

describe("serialize", () => {
  it("writes what ltx's toString writes", () => {
    const el = xml(
      "message",
      { to: `a"b'<c>&`, type: "chat", skipped: undefined },
      xml("body", {}, 'x < y & z > w "q"'),
      xml("empty", { n: 3 }),
      "tail",
    );
    expect(serialize(el)).toBe(el.toString());
  });
});
