/**
 * SASL (RFC 6120 6) over an open stream: PLAIN, SCRAM-SHA-1, SCRAM-SHA-256, or `auto` (the strongest offered).
 * The mechanism is the one the settings name, whether or not the connection is encrypted: a load test on
 * loopback uses PLAIN without TLS on purpose (xmpp.js refuses to, see DEPENDENCIES.md).
 */
import type { Element } from "@xmpp/xml";
import { ScramSha1, ScramSha256 } from "./scram.js";
import { SASLError } from "./xmpp-error.js";

const NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl";
const AUTO_ORDER = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"];

/** What authentication needs from the connection during login. */
export interface LoginIo {
  sendText(text: string, stanza: boolean): void;
  /** The next top-level element the server sends. */
  next(): Promise<Element>;
}

/** The mechanisms a `<stream:features/>` offers. */
export function offeredMechanisms(features: Element): string[] {
  const m = features.getChild("mechanisms", NS_SASL);
  return m ? m.getChildElements().map((c) => c.text().trim()) : [];
}

/** The mechanism to use: `wanted` if offered, or for `auto` the strongest offered; throws SASLError if none. */
export function chooseMechanism(wanted: string, offered: string[]): string {
  const want = wanted.toUpperCase();
  const mech =
    want === "AUTO" ? AUTO_ORDER.find((m) => offered.includes(m)) : offered.includes(want) ? want : undefined;
  if (!mech)
    throw new SASLError(
      "mechanism-unavailable",
      `server does not offer SASL ${want} (usable mechanisms it offers: ${offered.join(", ")})`,
    );
  return mech;
}

const b64 = (s: string) => (s ? Buffer.from(s, "utf8").toString("base64") : "=");
const unb64 = (s: string) => Buffer.from(s.trim(), "base64").toString("utf8");

/** Runs the SASL exchange with `mech`; resolves on `<success/>`, rejects with SASLError on `<failure/>`. */
export async function authenticate(io: LoginIo, mech: string, username: string, password: string): Promise<void> {
  const cred = { username, password };
  const scram = mech === "SCRAM-SHA-256" ? new ScramSha256() : mech === "SCRAM-SHA-1" ? new ScramSha1() : undefined;
  const first = scram ? await scram.response(cred) : `\0${username}\0${password}`;
  io.sendText(`<auth xmlns='${NS_SASL}' mechanism='${mech}'>${b64(first)}</auth>`, false);
  for (;;) {
    const el = await io.next();
    if (el.attrs.xmlns !== NS_SASL)
      throw new SASLError("malformed-request", `unexpected <${el.name}/> during authentication`);
    if (el.name === "success") {
      const text = el.text();
      if (scram && text && text !== "=") scram.challenge(unb64(text));
      return;
    }
    if (el.name === "failure") throw SASLError.fromElement(el);
    if (el.name !== "challenge" || !scram)
      throw new SASLError("malformed-request", `unexpected <${el.name}/> during ${mech}`);
    scram.challenge(unb64(el.text()));
    io.sendText(`<response xmlns='${NS_SASL}'>${b64(await scram.response(cred))}</response>`, false);
  }
}
