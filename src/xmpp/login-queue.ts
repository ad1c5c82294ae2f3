/**
 * What a connection receives while it logs in (or resumes): each login step awaits the next element
 * (`XmppConnection.next()`), and elements that arrive before a step asks are queued for it. Exists only during a
 * login: an online connection holds none of it.
 */
import type { Element } from "@xmpp/xml";

export class LoginQueue {
  /** The step waiting for the next element. */
  private waiting: { resolve: (el: Element) => void; reject: (e: Error) => void } | null = null;
  /** Elements nobody asked for yet, oldest first. */
  private early: Element[] | null = null;

  /** The next element: a queued one at once, else the next to arrive. */
  next(): Promise<Element> {
    const queued = this.early?.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise<Element>((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  /** An element arrived: to the waiting step, or queued. */
  deliver(el: Element): void {
    const w = this.waiting;
    if (w) {
      this.waiting = null;
      w.resolve(el);
    } else (this.early ??= []).push(el);
  }

  /** The login cannot go on: the waiting step rejects with `e`. */
  fail(e: () => Error): void {
    const w = this.waiting;
    this.waiting = null;
    if (w) w.reject(e());
  }

  /** Once online: what arrived after the last step, to hand on as any stanza (a stanza, an SM `<r/>`). */
  take(): Element[] | null {
    const early = this.early;
    this.early = null;
    return early;
  }
}
