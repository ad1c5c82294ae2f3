/**
 * What an XMPP connection does with what it receives: each top-level element goes to an awaited IQ, to stream
 * management, to the stanza handler once online, or to the login step waiting for it; the end of the stream, an
 * unreadable stream and a dropped socket end the connection (or resume a resumable stream).
 */
import type { Element } from "@xmpp/xml";
import type { XmppConnection } from "./connection.js";
import { endConnection } from "./connection-end.js";
import { isStanza, streamEndOf } from "./incoming.js";
import { resumeAfter } from "./login.js";
import { LoginQueue } from "./login-queue.js";
import { takeIq } from "./pending-iqs.js";
import { StreamClosedError } from "./xmpp-error.js";

/** A complete top-level element. */
export function onElement(c: XmppConnection, el: Element): void {
  const name = el.name;
  let ended: Error | null;
  if (name === "iq") {
    if (takeIq(c, el)) return;
  } else if ((ended = streamEndOf(el))) {
    // the stream is over: every waiter learns it now, not when the socket closes
    c.failure ??= ended;
    c.transport?.end();
    endConnection(c, undefined, c.status === "closing");
    return;
  }
  if (c.status === "online" || c.status === "closing") {
    const sm = c.sm;
    if (sm) {
      if (sm.onNonza(el)) return;
      if (isStanza(name)) sm.inbound++;
    }
    c.handler?.onStanza(el);
  } else (c.login ??= new LoginQueue()).deliver(el);
}

/** The server closed its stream: our close was answered, or the server ends the session. */
export function onStreamEnd(c: XmppConnection): void {
  // our close was answered: nothing more will come. TCP: close the socket at once (no half-close and no wait for
  // the peer's FIN, one system call and one read event fewer per user); WebSocket: its closing handshake
  if (c.closing) {
    if (c.transport?.framed) c.transport.end();
    else c.destroy();
  } else {
    c.failure ??= new StreamClosedError("closed", "the server closed the stream");
    c.transport?.end();
    endConnection(c, undefined, false);
  }
}

/** Not well-formed input (or a handler threw): the stream cannot be trusted any more. */
export function onParseError(c: XmppConnection, e: Error): void {
  c.failure ??= new StreamClosedError("invalid-xml", `the stream could not be read: ${e.message}`, e);
  c.transport?.destroy();
  endConnection(c, undefined, false);
}

/** The socket closed; `err` says why when it failed. */
export function onTransportClosed(c: XmppConnection, err: Error | undefined): void {
  // the socket dropped under a resumable stream (a stream error or </stream:stream> ends it before): resume
  if (c.status === "online" && c.sm?.resumable && c.o) {
    resumeAfter(c, err ?? new StreamClosedError("closed", "the server closed the connection"), c.o);
    return;
  }
  endConnection(c, err, c.status === "closing");
}
