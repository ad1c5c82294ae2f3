/**
 * roster: RFC 6121 roster management and a subscription handshake. Users pair by ID: the odd one (the asker) adds
 * the even one (the contact) to its roster and asks to see its presence; the contact approves. Every user first gets
 * its roster; at the end each removes the other again, so the next run starts from the same state.
 *
 * Metrics: xmpp.iq.roster (ms per roster get or set, from user.request), roster.push (ms from the asker's add to its
 * roster push), roster.subscription (ms from the asker's subscribe to the contact's subscribed), roster.contacts_added,
 * roster.subscriptions_approved (contacts), roster.subscriptions (askers that saw `subscribed` and the push with
 * subscription "to"). With a healthy server roster.subscriptions == roster.subscriptions_approved == users / 2.
 *
 * Variables: neighbour_timeout (ms to wait for the neighbour to come online), step_timeout (ms to wait for each push,
 * request and answer), linger_ms (ms to stay online after the handshake).
 */
import { defineScenario, duration } from "amoc-ts";
import {
  NS,
  connectUser,
  is,
  iq,
  meetPeer,
  neighbourOf,
  userJid,
  xml,
  type Element,
  type XmppUser,
} from "amoc-ts/xmpp";

export default defineScenario({
  variables: {
    neighbour_timeout: { default: 30_000, doc: "ms to wait for the neighbour to come online", verify: duration },
    step_timeout: {
      default: 10_000,
      doc: "ms to wait for each roster push, subscription request and answer",
      verify: duration,
    },
    linger_ms: { default: 0, doc: "ms to stay online after the handshake", verify: duration },
  },
  async start(id, _state, ctx) {
    const v = ctx.vars;
    const peer = userJid(neighbourOf(id), ctx.settings);
    const asker = id % 2 === 1;
    const user = await connectUser(ctx);
    try {
      ctx.phase = "roster_get";
      const roster = await user.request(iq.get(undefined, xml("query", { xmlns: NS.ROSTER })), v.step_timeout);
      // a run that crashed halfway left the neighbour in the roster: start clean
      if (itemOf(roster, peer)) await remove(user, peer, v.step_timeout);
      await user.sendPresence();
      ctx.phase = "meet";
      await meetPeer(user, peer, v.neighbour_timeout);
      if (asker) {
        ctx.phase = "add";
        const t0 = performance.now();
        await user.request(
          iq.set(
            undefined,
            xml("query", { xmlns: NS.ROSTER }, xml("item", { jid: peer, name: `user ${neighbourOf(id)}` })),
          ),
          v.step_timeout,
        );
        await user.waitFor(is.rosterPush({ jid: peer }), v.step_timeout, `roster push of ${peer}`);
        ctx.metrics.timing("roster.push", performance.now() - t0);
        ctx.metrics.count("roster.contacts_added");
        ctx.phase = "subscribe";
        const t1 = performance.now();
        await user.send(xml("presence", { to: peer, type: "subscribe" }));
        await user.waitFor(is.presence({ from: peer, type: "subscribed" }), v.step_timeout, `subscribed from ${peer}`);
        ctx.metrics.timing("roster.subscription", performance.now() - t1);
        await user.waitFor(
          is.all(
            is.rosterPush({ jid: peer }),
            (el) => itemOf(el, peer)?.attrs.subscription === "to" || itemOf(el, peer)?.attrs.subscription === "both",
          ),
          v.step_timeout,
          `roster push of ${peer} with subscription to`,
        );
        ctx.metrics.count("roster.subscriptions");
      } else {
        ctx.phase = "approve";
        await user.waitFor(is.presence({ from: peer, type: "subscribe" }), v.step_timeout, `subscribe from ${peer}`);
        await user.send(xml("presence", { to: peer, type: "subscribed" }));
        ctx.metrics.count("roster.subscriptions_approved");
      }
      if (v.linger_ms > 0) await ctx.sleep(v.linger_ms);
      ctx.phase = "remove";
      // the asker removes only once the contact approved (else the contact may still wait for the request)
      await remove(user, peer, v.step_timeout);
    } finally {
      await user.close();
    }
  },
});

/** The roster item of `jid` in a roster result or push. */
function itemOf(el: Element, jid: string): Element | undefined {
  return el
    .getChild("query", NS.ROSTER)
    ?.getChildren("item")
    .find((i) => i.attrs.jid === jid);
}

/** Removes `jid` from the roster (the server also cancels both subscriptions). */
async function remove(user: XmppUser, jid: string, timeoutMs: number): Promise<void> {
  await user.request(
    iq.set(undefined, xml("query", { xmlns: NS.ROSTER }, xml("item", { jid, subscription: "remove" }))),
    timeoutMs,
  );
}
