/** XMPP failures with the phase they happened in and a reason a summary can group by. */
import type { Element } from "@xmpp/xml";
import { AmocError, type ErrorCode } from "../errors.js";

/** Why a connection failed: what the summary and `xmpp.connection_failures.<reason>` report. */
export type FailureReason = "refused" | "timeout" | "auth" | "tls" | "dns" | "closed" | "aborted" | "other";

/**
 * Why an online connection was lost: the server's `<stream:error>` condition, the stream or socket closed by the
 * server (`closed`: `</stream:stream>` or EOF), the socket reset (`reset`: ECONNRESET, EPIPE), or XML that could not
 * be parsed (`invalid-xml`).
 */
export type LostReason = "closed" | "reset" | "invalid-xml" | `stream-error:${string}`;

/** An XMPP error; `phase` is reported with the crash ("connect", "wait", "send", ...). */
export class XmppError extends AmocError {
  constructor(
    code: ErrorCode,
    readonly phase: string,
    readonly reason: FailureReason | LostReason | "stanza_timeout",
    message: string,
    hint: string,
    cause?: unknown,
  ) {
    super(code, message, hint, { cause });
  }
}

/** The server or the network ended the stream: `</stream:stream>` or EOF (`closed`), a reset (`reset`), bad XML. */
export class StreamClosedError extends Error {
  override readonly name = "StreamClosedError";
  readonly code = "ECONNRESET";
  constructor(
    readonly reason: "closed" | "reset" | "invalid-xml",
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause });
  }
}

/** Why a connection that was online ended, from the error it ended with. */
export function lostReason(e: unknown): LostReason {
  if (e instanceof StreamError) return `stream-error:${e.condition}`;
  if (e instanceof StreamClosedError) return e.reason;
  const code = (e as { code?: string } | undefined)?.code;
  if (code === "ECONNRESET" || code === "EPIPE" || code === "ECONNABORTED") return "reset";
  return "closed";
}

/** The XmppError a scenario sees when its connection was lost while it `phase`d (waited, sent, asked an IQ). */
export function connectionLost(phase: string, e: unknown): XmppError {
  const reason = lostReason(e);
  // no user name in the message: the run summary groups crashes by phase and message
  const detail = e instanceof StreamError && e.text ? ` (${e.text})` : "";
  return new XmppError("XMPP_CONNECTION_LOST", phase, reason, `connection lost: ${reason}${detail}`, LOST_HINT, e);
}

const LOST_HINT = "the server ended the connection: see its log (shutdown, crash, connection limits, shapers)";

/** Classifies a connection error into a reason. */
export function classifyFailure(e: unknown): FailureReason {
  if (e instanceof StreamClosedError || e instanceof StreamError) return "closed";
  const err = e as { code?: string; name?: string; condition?: string; message?: string } | undefined;
  const code = err?.code ?? "";
  const msg = String(err?.message ?? "");
  if (
    err?.name === "SASLError" ||
    /^SASL:|not-authorized|Mechanism .* not found|does not offer/.test(msg) ||
    err?.condition === "not-authorized"
  )
    return "auth";
  if (code === "ECONNREFUSED" || /ECONNREFUSED/.test(msg)) return "refused";
  if (err?.name === "TimeoutError" || code === "ETIMEDOUT" || /timed? ?out/i.test(msg)) return "timeout";
  if (/CERT|SELF_SIGNED|certificate|ssl|tls|handshake/i.test(code + " " + msg)) return "tls";
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") return "dns";
  if (code === "ECONNRESET" || code === "EPIPE" || /socket hang up|closed/i.test(msg)) return "closed";
  if (err?.name === "AbortError" || code === "USER_ABORTED") return "aborted";
  return "other";
}

const HINTS: Record<FailureReason, string> = {
  refused: "is the XMPP server up and listening on that port? check xmpp_servers",
  timeout: "the server did not answer in time: raise xmpp_connect_timeout or lower the arrival rate",
  auth: "check xmpp_user_template/xmpp_password_template, that the users are provisioned, and xmpp_sasl_mechanism",
  tls: "the certificate was refused: use a trusted certificate, or AMOC_XMPP_TLS_VERIFY=0 for a test server",
  dns: "the host name in xmpp_servers does not resolve",
  closed: "the server closed the connection: see its log (connection limits, shapers)",
  aborted: "the user was removed",
  other: "see the log for the cause",
};

/** The hint for a failure reason. */
export function hintFor(reason: FailureReason): string {
  return HINTS[reason];
}

/** The `<error/>` condition and text of a stanza, stream or SASL failure element. */
function conditionOf(el: Element, ns: string): { condition: string; text: string } {
  // the defined condition comes first; it may inherit the namespace (SASL's <failure><not-authorized/></failure>)
  const cond = el
    .getChildElements()
    .find((c) => c.name !== "text" && (c.attrs.xmlns === undefined || c.attrs.xmlns === ns));
  return { condition: cond?.name ?? "undefined-condition", text: el.getChildText("text") ?? "" };
}

/** An IQ answered with type="error" (`condition` as in RFC 6120 8.3.3, e.g. "conflict"). */
export class StanzaError extends Error {
  override readonly name = "StanzaError";
  constructor(
    readonly condition: string,
    readonly text: string,
    readonly element: Element,
  ) {
    super(text ? `${condition} - ${text}` : condition);
  }

  /** From the `<iq type="error">` itself. */
  static fromIq(iq: Element): StanzaError {
    const err = iq.getChild("error");
    const { condition, text } = err
      ? conditionOf(err, "urn:ietf:params:xml:ns:xmpp-stanzas")
      : { condition: "undefined-condition", text: "" };
    return new StanzaError(condition, text, iq);
  }
}

/** The server ended the stream with `<stream:error>` (RFC 6120 4.9). */
export class StreamError extends Error {
  override readonly name = "StreamError";
  constructor(
    readonly condition: string,
    readonly text: string,
  ) {
    super(text ? `stream error ${condition} - ${text}` : `stream error ${condition}`);
  }

  static fromElement(el: Element): StreamError {
    const { condition, text } = conditionOf(el, "urn:ietf:params:xml:ns:xmpp-streams");
    return new StreamError(condition, text);
  }
}

/** Authentication refused (`<failure/>`), or no usable mechanism. */
export class SASLError extends Error {
  override readonly name = "SASLError";
  constructor(
    readonly condition: string,
    text = "",
  ) {
    super(`SASL: ${condition}${text ? ` - ${text}` : ""}`);
  }

  static fromElement(el: Element): SASLError {
    const { condition, text } = conditionOf(el, "urn:ietf:params:xml:ns:xmpp-sasl");
    return new SASLError(condition, text);
  }
}
