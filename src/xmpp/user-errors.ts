/**
 * The errors an online user's calls reject with (xmpp-user.ts): not connected, a failed send, no stanza or IQ reply
 * in time, the connection closed while waiting, and something other than an element passed to `send` or `iq`.
 */
import { errorMessage } from "../errors.js";
import type { Element } from "./xml.js";
import { XmppError, classifyFailure, hintFor } from "./xmpp-error.js";

/** A send on a user that closed its connection. */
export function notConnected(jid: string): XmppError {
  return new XmppError("XMPP_CONNECT_FAILED", "send", "closed", `${jid} is not connected`, "connect before sending");
}

/** The connection refused a write (and was not lost: that is `connectionLost`). */
export function sendFailed(e: unknown): XmppError {
  const reason = classifyFailure(e);
  return new XmppError("XMPP_CONNECT_FAILED", "send", reason, `send failed: ${errorMessage(e)}`, hintFor(reason), e);
}

/** No stanza (`phase` wait) or IQ reply (`phase` iq) within `timeoutMs`. */
export function stanzaTimeout(jid: string, phase: "wait" | "iq", what: string, timeoutMs: number): XmppError {
  return new XmppError(
    "XMPP_STANZA_TIMEOUT",
    phase,
    "stanza_timeout",
    `${jid}: no ${what} within ${timeoutMs} ms`,
    phase === "wait"
      ? "the server did not deliver in time: raise the timeout or lower the load"
      : "the server did not answer in time",
  );
}

/** The user closed its connection while waiting for `what`. */
export function closedWhileWaiting(jid: string, what: string): XmppError {
  return new XmppError(
    "XMPP_CONNECT_FAILED",
    "wait",
    "closed",
    `${jid}: connection closed while waiting for ${what}`,
    hintFor("closed"),
  );
}

/** A scenario passed something other than an element (e.g. XML text): say what to pass instead. */
export function checkElement(el: unknown, phase: string): void {
  const e = el as Partial<Element> | null;
  if (
    e &&
    typeof e === "object" &&
    typeof e.name === "string" &&
    Array.isArray(e.children) &&
    typeof e.attrs === "object"
  )
    return;
  const got =
    typeof el === "string"
      ? `a string (${JSON.stringify(el.length > 40 ? el.slice(0, 40) + "..." : el)})`
      : el === null
        ? "null"
        : typeof el;
  throw new XmppError(
    "USAGE",
    phase,
    "other",
    `user.${phase}() takes an element, got ${got}`,
    'build the stanza with xml(...), e.g. xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: "urn:xmpp:ping" }))',
  );
}
