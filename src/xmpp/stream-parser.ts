/**
 * An XMPP stream parser that builds ltx Elements (what scenarios read), with its state in a handful of fields.
 * It replaces @xmpp/xml's Parser, which wraps ltx's SAX parser in two EventEmitters with bound listeners and
 * per-instance closures (~1 KB per connection, measured with heap snapshots); this one costs ~100 bytes and scans
 * whole tags with indexOf instead of a character state machine.
 *
 * Two modes: a TCP stream (`<stream:stream>` opens it, its children are the top-level elements, `</stream:stream>`
 * closes it) and RFC 7395 framing (WebSocket: `<open/>` and `<close/>` are elements of their own).
 * XMPP forbids DTDs, comments and processing instructions in a stream (RFC 6120 11.1); the XML declaration and
 * comments are skipped anyway, a DTD is an error.
 */
import { Element, unescapeXML } from "@xmpp/xml";

/** Where the parser delivers what it finds. */
export interface ParserSink {
  /** The stream opened (the `<stream:stream>` header or a framed `<open/>`). */
  streamStart(header: Element): void;
  /** A complete top-level element (stanza or nonza); its parent is {@link STREAM_ROOT}. */
  element(el: Element): void;
  /** The server closed its stream (`</stream:stream>` or a framed `<close/>`). */
  streamEnd(): void;
  /** Not well-formed input. */
  parseError(e: Error): void;
}

const NS_FRAMING = "urn:ietf:params:xml:ns:xmpp-framing";
/** A larger unparsed tail means a peer that never closes its tag: give up instead of growing. */
const MAX_PENDING_CHARS = 1 << 20;

/**
 * The parent every top-level element gets, so `el.is("message", "jabber:client")` and `el.getNS()` resolve as
 * under a real stream root. One shared constant instead of each connection keeping its server's stream header
 * (whose attribute strings would pin the whole chunk they were sliced from).
 */
export const STREAM_ROOT = new Element("stream:stream", {
  xmlns: "jabber:client",
  "xmlns:stream": "http://etherx.jabber.org/streams",
});

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

function isBlank(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isSpace(s.charCodeAt(i))) return false;
  return true;
}

/**
 * The attributes between `from` and `end` (name="value" or name='value'), or null if malformed. Scanned with
 * indexOf rather than a regex: a match array per attribute was ~11 KB of garbage per user (heap profile).
 */
function parseAttrs(s: string, from: number, end: number): Record<string, string> | null {
  const attrs: Record<string, string> = {};
  let i = from;
  for (;;) {
    while (i < end && isSpace(s.charCodeAt(i))) i++;
    if (i >= end) return attrs;
    const eq = s.indexOf("=", i);
    if (eq < 0 || eq >= end) return null;
    let nameEnd = eq;
    while (nameEnd > i && isSpace(s.charCodeAt(nameEnd - 1))) nameEnd--;
    let q = eq + 1;
    while (q < end && isSpace(s.charCodeAt(q))) q++;
    const quote = s.charCodeAt(q);
    if (quote !== 34 /* " */ && quote !== 39 /* ' */) return null;
    const close = s.indexOf(quote === 34 ? '"' : "'", q + 1);
    if (close < 0 || close >= end || nameEnd === i) return null;
    attrs[s.slice(i, nameEnd)] = unescape(s.slice(q + 1, close));
    i = close + 1;
  }
}

/** Index of the `>` that ends the tag starting at `from`, skipping quoted attribute values; -1 if not there yet. */
function tagEnd(s: string, from: number): number {
  let quote = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 62 /* > */) return i;
    else if (c === 34 /* " */ || c === 39 /* ' */) quote = c;
  }
  return -1;
}

/** Parses one connection's incoming XML; `write` takes decoded text in any chunking. */
export class StreamParser {
  /** Text not parsed yet: an incomplete tag or text at the end of the last chunk. */
  private pending = "";
  /** The element being built; null between top-level elements. */
  private cursor: Element | null = null;
  private open = false;
  private failed = false;

  constructor(
    private readonly sink: ParserSink,
    /** RFC 7395 framing (WebSocket): no stream root, `<open/>`/`<close/>` elements. */
    private readonly framed: boolean,
  ) {}

  /** Starts over for a new stream (after STARTTLS or SASL success). */
  reset(): void {
    this.pending = "";
    this.cursor = null;
    this.open = false;
    this.failed = false;
  }

  write(data: string): void {
    if (this.failed) return;
    const s = this.pending ? this.pending + data : data;
    this.pending = "";
    let pos = 0;
    const n = s.length;
    while (pos < n && !this.failed) {
      const lt = s.indexOf("<", pos);
      const textEnd = lt < 0 ? n : lt;
      if (textEnd > pos) {
        if (this.cursor) {
          // text is delivered whole (ltx joins text children anyway): an unfinished run waits for the next chunk
          if (lt < 0) return this.keep(s, pos);
          this.cursor.t(unescape(s.slice(pos, lt)));
        } else if (!isBlank(s, pos, textEnd)) return this.fail("text outside of any element");
      }
      if (lt < 0) return;
      pos = lt;
      const c = s.charCodeAt(lt + 1);
      if (Number.isNaN(c)) return this.keep(s, lt);
      if (c === 63 /* ? */) {
        const e = s.indexOf("?>", lt + 2);
        if (e < 0) return this.keep(s, lt);
        pos = e + 2;
        continue;
      }
      if (c === 33 /* ! */) {
        if (s.startsWith("<![CDATA[", lt)) {
          const e = s.indexOf("]]>", lt + 9);
          if (e < 0) return this.keep(s, lt);
          this.cursor?.t(s.slice(lt + 9, e));
          pos = e + 3;
        } else if (s.startsWith("<!--", lt)) {
          const e = s.indexOf("-->", lt + 4);
          if (e < 0) return this.keep(s, lt);
          pos = e + 3;
        } else if (n - lt < 9) return this.keep(s, lt);
        else return this.fail("DTDs are not allowed in XMPP");
        continue;
      }
      const gt = tagEnd(s, lt + 1);
      if (gt < 0) return this.keep(s, lt);
      if (c === 47 /* / */) this.endTag(s.slice(lt + 2, gt).trim());
      else this.startTag(s, lt + 1, gt);
      pos = gt + 1;
    }
  }

  private keep(s: string, from: number): void {
    if (s.length - from > MAX_PENDING_CHARS) return this.fail(`an element larger than ${MAX_PENDING_CHARS} characters`);
    this.pending = s.slice(from);
  }

  private fail(why: string): void {
    this.failed = true;
    this.pending = "";
    this.cursor = null;
    this.sink.parseError(Object.assign(new Error(`XML: ${why}`), { name: "XMLError" }));
  }

  private startTag(s: string, from: number, gt: number): void {
    const selfClosing = s.charCodeAt(gt - 1) === 47; /* / */
    const end = selfClosing ? gt - 1 : gt;
    let i = from;
    while (i < end && !isSpace(s.charCodeAt(i))) i++;
    const name = s.slice(from, i);
    if (!name) return this.fail("a tag without a name");
    const attrs = parseAttrs(s, i, end);
    if (!attrs) return this.fail(`malformed attributes in <${name}>`);
    if (!this.open && !this.framed) {
      // the stream header: never closed by its own tag
      this.open = true;
      this.sink.streamStart(new Element(name, attrs));
      return;
    }
    const el = new Element(name);
    el.attrs = attrs;
    const parent = this.cursor;
    if (parent) parent.cnode(el);
    if (selfClosing) {
      if (!parent) this.done(el);
    } else this.cursor = el;
  }

  private endTag(name: string): void {
    const el = this.cursor;
    if (!el) {
      if (!this.framed && this.open) this.sink.streamEnd();
      else this.fail(`</${name}> closes nothing`);
      return;
    }
    if (el.name !== name) return this.fail(`<${el.name}> closed by </${name}>`);
    this.cursor = el.parent;
    if (!el.parent) this.done(el);
  }

  /** A top-level element is complete. */
  private done(el: Element): void {
    if (this.framed && el.attrs.xmlns === NS_FRAMING) {
      if (el.name === "open") this.sink.streamStart(el);
      else if (el.name === "close") this.sink.streamEnd();
      return;
    }
    el.parent = STREAM_ROOT;
    this.sink.element(el);
  }
}

function unescape(s: string): string {
  return s.includes("&") ? unescapeXML(s) : s;
}
