/** What an XMPP connection is given (its options) and whom it tells what happened (its stanza handler). */
import type { Element } from "@xmpp/xml";
import type { XmppConnection } from "./connection.js";

/** What a connection needs to know. */
export interface ConnectionOptions {
  /** Parsed once per distinct endpoint by the caller and shared. */
  service: URL;
  domain: string;
  username: string;
  password: string;
  resource: string;
  /** PLAIN, SCRAM-SHA-1, SCRAM-SHA-256, or auto (the strongest offered). */
  mechanism: string;
  /** Bounds the whole login (connect, TLS, stream, auth, bind): `start()` then rejects with TimeoutError. */
  timeoutMs: number;
  /** Negotiate STARTTLS on xmpp:// (a server that does not offer it fails the login); no effect on xmpps://, ws(s)://, http(s)://. */
  starttls: boolean;
  streamManagement: boolean;
  tlsVerify: boolean;
  /** Runs after the stream opens and before authentication (XEP-0077 registration). */
  beforeAuth?: (c: XmppConnection) => Promise<void>;
}

/** Receives the stanzas of an online connection, and its loss. */
export interface StanzaHandler {
  onStanza(el: Element): void;
  /**
   * The server or the network ended the online connection (not `close()` or `destroy()`): `cause` is a StreamError,
   * a StreamClosedError or the socket's error (see `lostReason`). Pending IQs were rejected with it just before.
   */
  onConnectionLost?(cause: Error): void;
  /** A dropped socket was replaced and the stream resumed (XEP-0198): nothing was lost. */
  onResumed?(): void;
  /** Resuming after a dropped socket failed with `cause`; `onConnectionLost` follows. */
  onResumeFailed?(cause: Error): void;
}

/**
 * offline -> connecting -> online -> closing -> closed (or offline -> connecting -> closed on failure); a resumable
 * stream (XEP-0198) whose socket drops goes online -> resuming -> online (or -> closed when resumption fails).
 */
export type ConnectionStatus = "offline" | "connecting" | "online" | "resuming" | "closing" | "closed";
