/**
 * XEP-0198 stream management: enable it, count stanzas both ways, answer the server's `<r/>` and ask for acks
 * (`<r/>` 250 ms after a burst of sends, as xmpp.js does), and, when the server grants resumption, keep the stanzas
 * it has not acknowledged so a connection that dropped can `<resume/>` and send them again (XmppConnection does
 * the reconnecting). Exists only on connections that enabled it; the unacked queue only on resumable ones.
 */
import type { Element } from "@xmpp/xml";

/** The XEP-0198 namespace. */
export const NS_SM = "urn:xmpp:sm:3";
const REQUEST_ACK_DEBOUNCE_MS = 250;

/** The counters of one connection with stream management enabled. */
export class StreamManagement {
  /** Stanzas received since enabling (the `h` we report). */
  inbound = 0;
  /** Stanzas sent since enabling. */
  outbound = 0;
  /** The server's last `h`. */
  acked = 0;
  /** Sent and not yet acknowledged, oldest first (serialized): kept only when the stream is resumable. */
  private unacked: string[] | null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly write: (s: string) => void,
    /** The stream's id for `<resume previd/>` when the server granted resumption (`<enabled resume='true'/>`). */
    readonly resumeId: string | null = null,
  ) {
    this.unacked = resumeId ? [] : null;
  }

  /** The server granted resumption. */
  get resumable(): boolean {
    return this.resumeId !== null;
  }

  /** Stanzas sent and not yet acknowledged (0 when not resumable: none are kept). */
  get pending(): number {
    return this.unacked?.length ?? 0;
  }

  /** Handles an SM nonza; true if `el` was one. */
  onNonza(el: Element): boolean {
    if (el.attrs.xmlns !== NS_SM) return false;
    if (el.name === "r") this.write(`<a xmlns='${NS_SM}' h='${this.inbound}'/>`);
    else if (el.name === "a") this.ack(Number(el.attrs.h) || 0);
    return true;
  }

  /** The server has handled `h` stanzas in all: forget those it acknowledged. */
  ack(h: number): void {
    // h counts modulo 2^32 (XEP-0198 4)
    const n = (h - this.acked) >>> 0;
    this.acked = h;
    if (this.unacked && n > 0) this.unacked.splice(0, Math.min(n, this.unacked.length));
  }

  /** A stanza went out (`text` is kept until acknowledged when resumable): ask for an ack once the burst is over. */
  sent(text: string): void {
    this.outbound++;
    this.unacked?.push(text);
    this.timer ??= setTimeout(requestAck, REQUEST_ACK_DEBOUNCE_MS, this);
  }

  /** `<resumed h/>`: what the server did not get, to send again (it stays unacknowledged until the next `<a/>`). */
  resumed(h: number): string[] {
    this.ack(h);
    return this.unacked ? [...this.unacked] : [];
  }

  /** @internal */
  requestAck(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.write(`<r xmlns='${NS_SM}'/>`);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

const requestAck = (sm: StreamManagement) => sm.requestAck();
