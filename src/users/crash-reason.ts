/**
 * A crash's stable reason: what the run summary, the report and the dashboard group crashed users by. Two users that
 * failed for the same cause get the same reason whatever their names, IDs, addresses or ports: `connect:timeout`,
 * `auth:not-authorized`, `wait:stream-error:system-shutdown`, `start:error:user <n>: wrong body`.
 */

/** The longest reason kept: a message-derived reason is cut here so one odd message cannot make a huge key. */
const MAX_REASON = 96;

/** What a thrown value may carry: AmocError's `code` and `phase`, XmppError's `reason`, a SASL/stream `condition`. */
interface ErrorFields {
  code?: unknown;
  phase?: unknown;
  reason?: unknown;
  condition?: unknown;
  cause?: unknown;
  name?: unknown;
  message?: unknown;
}

const fields = (e: unknown): ErrorFields => (typeof e === "object" && e !== null ? (e as ErrorFields) : {});
const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** The phase a crash happened in: the error's own (XmppError, AmocError with a phase), else the user's. */
export function crashPhase(error: unknown, userPhase: string): string {
  return str(fields(error).phase) ?? userPhase;
}

/**
 * The reason of a crash in `phase`: the error's failure reason or code (a SASL or stream condition when there is
 * one), else its name and its message with the varying parts (numbers, addresses, JIDs, quoted text) replaced.
 */
export function crashReason(error: unknown, phase: string): string {
  const f = fields(error);
  const reason = str(f.reason);
  const condition = str(fields(f.cause).condition) ?? str(f.condition);
  if (reason === "auth" && condition) return `${phase}:${condition}`;
  if (reason && reason !== "other") return `${phase}:${reason}`;
  const code = str(f.code);
  // a Node system error keeps its own name (ECONNREFUSED), as its documentation and every search for it spell it
  if (code && /^E[A-Z]+$/.test(code)) return `${phase}:${code}`;
  if (code && /^[A-Z][A-Z0-9_]*$/.test(code)) {
    // a coded error whose reason is "other" still has a cause worth telling apart (ECONNREFUSED, EHOSTUNREACH, ...)
    const causeCode = str(fields(f.cause).code);
    const kebab = code.toLowerCase().replaceAll("_", "-");
    return causeCode && /^E[A-Z]+$/.test(causeCode) ? `${phase}:${kebab}:${causeCode}` : `${phase}:${kebab}`;
  }
  const name = str(f.name) ?? (error instanceof Error ? error.name : typeof error);
  const message = typeof f.message === "string" ? f.message : typeof error === "string" ? error : "";
  const generic = normalizeMessage(message);
  return cut(`${phase}:${name.toLowerCase()}${generic ? `: ${generic}` : ""}`);
}

/** A message with what varies per user replaced: JIDs and e-mail-like names, IP addresses with ports, UUIDs, numbers, quoted text. */
export function normalizeMessage(message: string): string {
  return message
    .split("\n")[0]!
    .replace(/\b[\w.+-]+@[\w.-]+(?:\/[^\s,;:)]*)?/g, "<jid>")
    .replace(/\[[0-9a-f:]+\](?::\d+)?|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b/gi, "<addr>")
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<uuid>")
    .replace(/(["'`])(?:(?!\1).)*\1/g, "<text>")
    .replace(/\b[A-Za-z_-]*\d[\w-]*\b/g, (w) => (/^\d+$/.test(w) ? "<n>" : w.replace(/\d+/g, "<n>")))
    .replace(/\s+/g, " ")
    .trim();
}

function cut(s: string): string {
  return s.length > MAX_REASON ? `${s.slice(0, MAX_REASON - 1)}…` : s;
}
