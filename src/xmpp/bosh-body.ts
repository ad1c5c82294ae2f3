/**
 * The `<body/>` wrapper of BOSH (XEP-0124, XEP-0206): the request bodies a session sends (create, restart after
 * SASL, payload, empty poll, terminate) and the reading of a response's attributes.
 */
import { BOSH_WAIT_S, HEADERS_TYPE } from "./bosh-http.js";

const NS_BOSH = "http://jabber.org/protocol/httpbind";
const NS_XBOSH = "urn:xmpp:xbosh";
/** XEP-0124 12: a terminate carries the unavailable presence the stream's end implies. */
const UNAVAILABLE = "<presence type='unavailable' xmlns='jabber:client'/>";

/** Creates the session (hold=1: the server keeps one request to answer when it has something). */
export function createBody(rid: number, domain: string): string {
  return `<body content='${HEADERS_TYPE}' hold='1' rid='${rid}' to='${domain}' ver='1.6' wait='${BOSH_WAIT_S}' xml:lang='en' xmpp:version='1.0' xmlns='${NS_BOSH}' xmlns:xmpp='${NS_XBOSH}'/>`;
}

/** Restarts the stream (after SASL success). */
export function restartBody(rid: number, sid: string, domain: string): string {
  return `<body rid='${rid}' sid='${sid}' to='${domain}' xml:lang='en' xmpp:restart='true' xmlns='${NS_BOSH}' xmlns:xmpp='${NS_XBOSH}'/>`;
}

/** Carries `payload` (top-level stanzas and nonzas). */
export function payloadBody(rid: number, sid: string, payload: string): string {
  return `<body rid='${rid}' sid='${sid}' xmlns='${NS_BOSH}'>${payload}</body>`;
}

/** Nothing to send: a request for the server to hold. */
export function emptyBody(rid: number, sid: string): string {
  return `<body rid='${rid}' sid='${sid}' xmlns='${NS_BOSH}'/>`;
}

/** Ends the session, after `payload`. */
export function terminateBody(rid: number, sid: string, payload = ""): string {
  return `<body rid='${rid}' sid='${sid}' type='terminate' xmlns='${NS_BOSH}'>${payload}${UNAVAILABLE}</body>`;
}

const attrRe = (name: string) => new RegExp(`\\s${name}\\s*=\\s*(?:'([^']*)'|"([^"]*)")`);
const ATTR = { type: attrRe("type"), sid: attrRe("sid"), requests: attrRe("requests"), condition: attrRe("condition") };

/** The value of attribute `name` in a start tag, or undefined. */
export function attr(tag: string, name: keyof typeof ATTR): string | undefined {
  const m = ATTR[name].exec(tag);
  return m ? (m[1] ?? m[2]) : undefined;
}

/** A copy of a string sliced from a response: a slice would keep the whole response alive. */
export const copy = (s: string) => Buffer.from(s).toString();
