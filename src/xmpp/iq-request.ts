/** IQ round trips for scenarios: `user.request(iq)` times each IQ kind and turns an error reply into an IqError. */
import type { Metrics } from "../metrics/metrics.js";
import { iqKind } from "./stanzas.js";
import type { Element } from "./xml.js";
import { StanzaError, XmppError } from "./xmpp-error.js";

/** An IQ answered with type="error": `condition` is the RFC 6120 8.3.3 condition (e.g. "item-not-found"). */
export class IqError extends XmppError {
  constructor(
    /** The IQ kind (`iqKind`): "ping", "roster", "mam", ... */
    readonly kind: string,
    readonly condition: string,
    readonly text: string,
    /** The error reply. */
    readonly element: Element,
  ) {
    super(
      "XMPP_STANZA_ERROR",
      "iq",
      "other",
      `${kind} IQ failed: ${condition}${text ? ` - ${text}` : ""}`,
      hintForCondition(condition),
    );
  }
}

function hintForCondition(condition: string): string {
  if (condition === "service-unavailable" || condition === "feature-not-implemented")
    return "the server does not offer this: enable its module (config/servers/)";
  if (condition === "forbidden" || condition === "not-allowed" || condition === "not-authorized")
    return "the server refused it: check its access rules";
  if (condition === "item-not-found") return "the addressed item or node does not exist (yet)";
  return "see the server's log and the IQ's error element";
}

/** What `requestIq` needs from a user: its plain IQ round trip. */
export interface IqSender {
  iq(el: Element, timeoutMs?: number): Promise<Element>;
}

/**
 * Sends `el` and resolves with the result. Times it (`xmpp.iq.<kind>`, ms, results and error replies alike), counts
 * error replies (`xmpp.iq_errors.<kind>`, rejecting with IqError) and timeouts (`xmpp.iq_timeouts.<kind>`, rejecting
 * with the XmppError of `user.iq`).
 */
export async function requestIq(
  user: IqSender,
  metrics: Metrics,
  el: Element,
  timeoutMs: number,
  kind = iqKind(el),
): Promise<Element> {
  const t0 = performance.now();
  try {
    const res = await user.iq(el, timeoutMs);
    metrics.timing(`xmpp.iq.${kind}`, performance.now() - t0);
    return res;
  } catch (e) {
    if (e instanceof StanzaError) {
      metrics.timing(`xmpp.iq.${kind}`, performance.now() - t0);
      metrics.count(`xmpp.iq_errors.${kind}`);
      throw new IqError(kind, e.condition, e.text, e.element);
    }
    if (e instanceof XmppError && e.reason === "stanza_timeout") metrics.count(`xmpp.iq_timeouts.${kind}`);
    throw e;
  }
}
