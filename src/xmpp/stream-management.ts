/**
 * XEP-0198 stream management, the part a load generator uses: enable it, count stanzas both ways, answer the
 * server's `<r/>` and ask for acks (`<r/>` 250 ms after a burst of sends, as xmpp.js does). No resumption: a load
 * tool does not reconnect behind the scenario's back. Exists only on connections that enabled it.
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
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly write: (s: string) => void) {}

  /** Handles an SM nonza; true if `el` was one. */
  onNonza(el: Element): boolean {
    if (el.attrs.xmlns !== NS_SM) return false;
    if (el.name === "r") this.write(`<a xmlns='${NS_SM}' h='${this.inbound}'/>`);
    else if (el.name === "a") this.acked = Number(el.attrs.h) || 0;
    return true;
  }

  /** A stanza went out: ask for an ack once the burst is over. */
  sent(): void {
    this.outbound++;
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.write(`<r xmlns='${NS_SM}'/>`);
    }, REQUEST_ACK_DEBOUNCE_MS);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
