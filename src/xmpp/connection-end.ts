/**
 * The end of an XMPP connection, whoever ends it: every waiter (a login step, pending IQs, a close) is settled, the
 * transport is dropped, and a connection lost while online tells its handler why.
 */
import type { XmppConnection } from "./connection.js";
import { rejectIqs } from "./pending-iqs.js";
import { StreamClosedError } from "./xmpp-error.js";

export const closedError = () => new StreamClosedError("closed", "connection closed");

/**
 * The connection is over. `byUs`: `close()` or `destroy()` ended it; otherwise an online connection was lost and
 * the handler is told why (`err`, or the failure recorded before).
 */
export function endConnection(c: XmppConnection, err: Error | undefined, byUs: boolean): void {
  if (c.status === "closed") return;
  const wasClosing = c.status === "closing";
  const wasResuming = c.status === "resuming";
  c.lost = !byUs && (c.status === "online" || wasResuming);
  // a failed resumption reports why the socket dropped in the first place
  if (wasResuming && c.lost) {
    c.failure ??= c.resumeCause;
    c.handler?.onResumeFailed?.(err ?? c.failure ?? closedError());
  }
  c.resumeCause = null;
  c.o = null;
  c.status = "closed";
  c.sm?.stop();
  // an Error (and its stack) only when someone waits for one: a normal close has nobody to tell
  if (c.lost) c.failure ??= err ?? new StreamClosedError("closed", "the server closed the connection");
  else c.failure ??= err ?? null;
  const q = c.login;
  c.login = null;
  q?.fail(() => (c.failure ??= closedError()));
  if (c.iqs) rejectIqs(c, (c.failure ??= closedError()));
  const closing = c.closing;
  c.closing = null;
  if (closing) {
    clearTimeout(closing.timer);
    closing.resolve();
  }
  if (!wasClosing) c.transport?.destroy();
  c.transport = null;
  c.parser = null;
  if (c.lost) c.handler?.onConnectionLost?.(c.failure as Error);
}
