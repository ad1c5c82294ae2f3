/**
 * A scripted fake XMPP server on a random loopback port, for unit tests of the XMPP client: a script answers each
 * chunk the client sends; tests wait for what the server received (no polling) and reach the sockets to end them.
 */
import net from "node:net";

export const HEADER = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='f1' from='localhost' version='1.0'>`;
export const MECHS = `<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`;
export const BOUND = `<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>`;

/** What the fake server does with what the client sends (one callback per chunk). */
export type Script = (text: string, sock: net.Socket, state: { streams: number }) => void;

/** A minimal server: stream headers, PLAIN for user/pw, binding; `extra` handles everything else. */
export function xmppServer(extra: Script = () => {}): Script {
  return (text, sock, st) => {
    if (text.includes("<stream:stream")) {
      st.streams++;
      sock.write(HEADER + (st.streams === 1 ? MECHS : BOUND));
    } else if (text.includes("<auth")) {
      const creds = Buffer.from(/>([^<]*)</.exec(text)?.[1] ?? "", "base64").toString();
      sock.write(
        creds === "\0user\0pw"
          ? "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
          : "<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/><text>bad</text></failure>",
      );
    } else if (text.includes("<bind")) {
      sock.write(
        "<iq type='result' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>user@localhost/r</jid></bind></iq>",
      );
    } else if (text.includes("</stream:stream>")) {
      sock.end("</stream:stream>");
    } else extra(text, sock, st);
  };
}

/** A running fake server. */
export interface FakeServer {
  url: URL;
  /** Every chunk received, in order. */
  received: string[];
  /** The client sockets, in connection order. */
  sockets: net.Socket[];
  /** Resolves once everything received so far, joined, satisfies `pred`. */
  receivedUntil(pred: (all: string) => boolean): Promise<string>;
  close(): Promise<void>;
}

/** Starts a fake server running `script` on 127.0.0.1 and a free port. */
export async function serve(script: Script): Promise<FakeServer> {
  const received: string[] = [];
  const sockets: net.Socket[] = [];
  const watchers: Array<{ pred: (all: string) => boolean; resolve: (all: string) => void }> = [];
  const check = () => {
    const all = received.join("");
    for (let i = watchers.length - 1; i >= 0; i--) {
      const w = watchers[i];
      if (w && w.pred(all)) {
        watchers.splice(i, 1);
        w.resolve(all);
      }
    }
  };
  const server = net.createServer((sock) => {
    sockets.push(sock);
    const st = { streams: 0 };
    sock.on("data", (d) => {
      const text = d.toString();
      received.push(text);
      script(text, sock, st);
      check();
    });
    sock.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: new URL(`xmpp://127.0.0.1:${(server.address() as net.AddressInfo).port}`),
    received,
    sockets,
    receivedUntil: (pred) =>
      new Promise<string>((resolve) => {
        watchers.push({ pred, resolve });
        check();
      }),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
