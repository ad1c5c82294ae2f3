/** A tiny fake BOSH server (XEP-0124/0206) on 127.0.0.1 for the BOSH transport's unit tests. */
import http from "node:http";
import type { AddressInfo } from "node:net";
export const NS = "http://jabber.org/protocol/httpbind";
export const FEATURES_SASL =
  "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>";
export const FEATURES_BIND = "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>";

/** One request as the fake server saw it. */
export interface Seen {
  body: string;
  rid: number;
  attrs: Record<string, string>;
}

export interface FakeBosh {
  url: URL;
  seen: Seen[];
  /** Requests the server is answering or holding right now, and the most ever at once. */
  inFlight: number;
  maxInFlight: number;
  /** Answers the held request with `content` (waits until one is held). */
  push(content: string, bodyAttrs?: string): Promise<void>;
  /** Resolves when a request whose body matches `pred` has arrived. */
  arrived(pred: (s: Seen) => boolean): Promise<Seen>;
  close(): Promise<void>;
}

/** Takes a request before the default behaviour (return true when it did); `takeHeld` takes over the held one. */
export type Answer = (s: Seen, res: http.ServerResponse, takeHeld: () => http.ServerResponse | null) => boolean;

const attrsOf = (body: string): Record<string, string> => {
  const tag = /<body[^>]*>/.exec(body)?.[0] ?? "";
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:]+)='([^']*)'/g)) out[m[1] as string] = m[2] as string;
  return out;
};

export const reply = (res: http.ServerResponse, content = "", attrs = "") => {
  res.writeHead(200, { "Content-Type": "text/xml; charset=utf-8" });
  res.end(
    content
      ? `<body xmlns='${NS}' xmlns:stream='http://etherx.jabber.org/streams'${attrs}>${content}</body>`
      : `<body xmlns='${NS}'${attrs}/>`,
  );
};

/**
 * A BOSH server that logs a PLAIN user in: session creation, SASL, restart, bind; it holds empty requests (hold=1)
 * and answers the held one when another arrives. `answer` may take a request first (return true when it did).
 */
export async function fakeBosh(answer: Answer = () => false): Promise<FakeBosh> {
  let held: http.ServerResponse | null = null;
  const heldWaiters: Array<() => void> = [];
  const arrivals: Array<{ pred: (s: Seen) => boolean; resolve: (s: Seen) => void }> = [];
  const fake: FakeBosh = {
    url: new URL("http://127.0.0.1/"),
    seen: [],
    inFlight: 0,
    maxInFlight: 0,
    async push(content, bodyAttrs = "") {
      while (!held) await new Promise<void>((r) => heldWaiters.push(r));
      const res = held;
      held = null;
      reply(res, content, bodyAttrs);
    },
    arrived(pred) {
      const s = fake.seen.find(pred);
      return s ? Promise.resolve(s) : new Promise((resolve) => arrivals.push({ pred, resolve }));
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  const server = http.createServer({ keepAlive: true }, (req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      fake.inFlight++;
      fake.maxInFlight = Math.max(fake.maxInFlight, fake.inFlight);
      res.on("finish", () => fake.inFlight--);
      res.on("close", () => void (res.writableFinished || fake.inFlight--));
      const attrs = attrsOf(body);
      const s: Seen = { body, rid: Number(attrs.rid), attrs };
      fake.seen.push(s);
      for (let i = arrivals.length - 1; i >= 0; i--) {
        const a = arrivals[i];
        if (a?.pred(s)) {
          arrivals.splice(i, 1);
          a.resolve(s);
        }
      }
      const takeHeld = () => {
        const h = held;
        held = null;
        return h;
      };
      if (answer(s, res, takeHeld)) return;
      // hold=1: a new request releases the held one
      if (held && !body.includes("type='terminate'")) reply(takeHeld() as http.ServerResponse);
      if (!attrs.sid) return reply(res, FEATURES_SASL, " sid='s1' requests='2' wait='60' hold='1' ver='1.6'");
      if (attrs.type === "terminate") {
        if (held) reply(held, "", " type='terminate'");
        held = null;
        return reply(res, "", " type='terminate'");
      }
      if (body.includes("<auth ")) return reply(res, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
      if (attrs["xmpp:restart"] === "true") return reply(res, FEATURES_BIND);
      if (body.includes("id='bind'"))
        return reply(
          res,
          "<iq type='result' id='bind' xmlns='jabber:client'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@localhost/r</jid></bind></iq>",
        );
      held = res;
      for (const w of heldWaiters.splice(0)) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  fake.url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/http-bind`);
  return fake;
}
