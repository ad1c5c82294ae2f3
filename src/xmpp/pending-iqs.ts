/**
 * The IQs of a connection: those it sent and awaits the answer of, by ID, each with its timeout, and the gets and
 * sets it answers. The Map lives on the connection and only while an IQ is pending: an empty Map still holds its
 * hash table (~170 bytes), and most connections send no IQ after binding.
 */
import type { Element } from "@xmpp/xml";
import { TimeoutError } from "../errors.js";
import type { ConnectionStatus } from "./connection-options.js";
import { answerTo } from "./incoming.js";
import { StanzaError } from "./xmpp-error.js";

/** An IQ awaiting its answer. */
export interface PendingIq {
  resolve: (v: Element) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** What holds the pending IQs: a connection. */
export interface IqHolder {
  iqs: Map<string, PendingIq> | null;
  send(el: Element): void;
}

let iqSeq = 0;

/** Sends an IQ (an id is added if missing) and resolves with the result; rejects with StanzaError or TimeoutError. */
export function sendIq(h: IqHolder, el: Element, timeoutMs: number): Promise<Element> {
  const id = (el.attrs.id as string | undefined) ?? (el.attrs.id = `amoc${++iqSeq}`);
  return new Promise<Element>((resolve, reject) => {
    const iqs = (h.iqs ??= new Map());
    const timer = setTimeout(() => {
      iqs.delete(id);
      if (iqs.size === 0 && h.iqs === iqs) h.iqs = null;
      reject(new TimeoutError(`IQ ${id}`, timeoutMs));
    }, timeoutMs);
    iqs.set(id, { resolve, reject, timer });
    try {
      h.send(el);
    } catch (e) {
      clearTimeout(timer);
      iqs.delete(id);
      reject(e as Error);
    }
  });
}

/**
 * An incoming IQ: a result or an error settles the IQ it answers, a get or a set is answered (see `answerTo`). True
 * when nothing more is to be done with it: an awaited answer, or a get/set before the connection is online; false
 * hands it on like any other element (to the stanza handler, or to the login step waiting for it).
 */
export function takeIq(h: IqHolder & { readonly status: ConnectionStatus }, el: Element): boolean {
  const type = el.attrs.type as string | undefined;
  if (type === "result" || type === "error") return settleIq(h, el, type);
  const reply = answerTo(el);
  if (reply) {
    try {
      h.send(reply);
    } catch {
      // closed meanwhile: nobody to answer
    }
  }
  return h.status !== "online" && h.status !== "closing";
}

/** Settles the pending IQ an incoming result or error answers; false when none waits for it. */
function settleIq(h: IqHolder, el: Element, type: "result" | "error"): boolean {
  const p = h.iqs?.get(el.attrs.id as string);
  if (!p) return false;
  h.iqs!.delete(el.attrs.id as string);
  if (h.iqs!.size === 0) h.iqs = null;
  clearTimeout(p.timer);
  if (type === "result") p.resolve(el);
  else p.reject(StanzaError.fromIq(el));
  return true;
}

/** The connection is over: every pending IQ rejects with `cause`. */
export function rejectIqs(h: IqHolder, cause: Error): void {
  if (!h.iqs) return;
  for (const p of h.iqs.values()) {
    clearTimeout(p.timer);
    p.reject(cause);
  }
  h.iqs = null;
}
