/**
 * xmpp.js 0.14 leaves a promise without a handler when a login fails while the stream opens (`Connection.start`
 * awaits `open()` before anyone listens to its `online` promise, which then rejects with the socket's error): under
 * load one ECONNRESET would end the whole node. This guard, installed once by the first `connectClient`, swallows
 * such rejections (network errors and xmpp.js's own error classes) and rethrows every other one, so an unhandled
 * rejection elsewhere still ends the process as Node would.
 */
const NETWORK_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNREFUSED",
  "ETIMEDOUT",
  "ECONNABORTED",
  "ERR_STREAM_DESTROYED",
]);
const XMPPJS_ERRORS = new Set(["StreamError", "SASLError", "TimeoutError", "XMPPError", "ConnectionError"]);

let installed = false;

/** True for what xmpp.js leaves unhandled after a failed login. */
export function isXmppJsLoginNoise(reason: unknown): boolean {
  const e = reason as { code?: unknown; name?: unknown } | null;
  if (!e || typeof e !== "object") return false;
  return (
    (typeof e.code === "string" && NETWORK_CODES.has(e.code)) ||
    (typeof e.name === "string" && XMPPJS_ERRORS.has(e.name))
  );
}

/** Installs the guard (once per process). */
export function guardXmppJsRejections(): void {
  if (installed) return;
  installed = true;
  process.on("unhandledRejection", (reason) => {
    if (isXmppJsLoginNoise(reason)) return;
    throw reason;
  });
}
