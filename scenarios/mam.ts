/**
 * mam: XEP-0313 message archive lookups with RSM paging (XEP-0059). Users pair by ID (1<->2, 3<->4, ...), meet by
 * presence and exchange `message_count` chats each (as one_to_one); then each queries its archive for this run's
 * conversation with its neighbour, `page_size` messages per page, until the server says the result is complete.
 *
 * Metrics: xmpp.iq.mam (ms per page: query to the IQ result that ends the page), mam.lookup (ms for the whole
 * lookup), mam.lookups, mam.pages, mam.results (archived messages returned), mam.messages_found (those this user
 * sent in this run, told apart by a per-run token in the body). With a healthy server mam.messages_found ==
 * xmpp.messages_sent and mam.results == 2 x xmpp.messages_sent.
 *
 * Variables: message_count, message_interval (updatable), page_size (RSM max per page), neighbour_timeout,
 * receive_timeout (ms to wait for the neighbour's chats), lookup_timeout (ms per page).
 */
import { randomBytes } from "node:crypto";
import { defineScenario, duration, nonNegative, positiveInt } from "amoc-ts";
import { NS, connectUser, iq, jidMatches, meetPeer, neighbourOf, userJid, xml, type Element } from "amoc-ts/xmpp";

export default defineScenario({
  variables: {
    message_count: {
      default: 10,
      doc: "chats each user sends to its neighbour before looking up the archive",
      verify: nonNegative,
    },
    message_interval: { default: 50, doc: "ms between two chats", verify: duration, updatable: true },
    page_size: { default: 5, doc: "messages per page of the archive query (RSM max)", verify: positiveInt },
    neighbour_timeout: { default: 30_000, doc: "ms to wait for the neighbour to come online", verify: duration },
    receive_timeout: { default: 30_000, doc: "ms to wait for the neighbour's chats", verify: duration },
    lookup_timeout: { default: 10_000, doc: "ms to wait for each page of the archive", verify: duration },
  },
  async start(id, _state, ctx) {
    const v = ctx.vars;
    const peer = userJid(neighbourOf(id), ctx.settings);
    const user = await connectUser(ctx);
    try {
      await user.sendPresence();
      ctx.phase = "meet";
      await meetPeer(user, peer, v.neighbour_timeout);
      // the archive keeps earlier runs: look up from a second before this one, and count our chats by this token
      const since = new Date(Date.now() - 1000).toISOString();
      const token = randomBytes(6).toString("hex");
      ctx.phase = "send";
      for (let i = 0; i < v.message_count; i++) {
        if (i > 0 && v.message_interval > 0) await ctx.sleep(v.message_interval);
        await user.sendChat(peer, `${token} message ${i + 1} from ${id}`);
      }
      ctx.phase = "receive";
      for (let i = 0; i < v.message_count; i++) await user.waitForChat(v.receive_timeout, peer);
      ctx.phase = "lookup";
      const t0 = performance.now();
      let after: string | undefined;
      let found = 0;
      for (let page = 1; ; page++) {
        const queryid = `${token}-${page}`;
        const res = await user.request(
          iq.set(undefined, query(queryid, peer, since, v.page_size, after)),
          v.lookup_timeout,
        );
        ctx.metrics.count("mam.pages");
        // the page's messages arrive before the IQ result that ends it
        for (
          let m = user.poll((el) => resultOf(el, queryid) !== undefined);
          m;
          m = user.poll((el) => resultOf(el, queryid) !== undefined)
        ) {
          ctx.metrics.count("mam.results");
          const fwd = resultOf(m, queryid)?.getChild("forwarded", NS.FORWARD)?.getChild("message");
          if (fwd?.getChildText("body")?.startsWith(token) && jidMatches(fwd.attrs.from, user.jid)) found++;
        }
        const fin = res.getChild("fin", NS.MAM);
        after = fin?.getChild("set", NS.RSM)?.getChildText("last") ?? undefined;
        if (fin?.attrs.complete === "true" || !after) break;
      }
      ctx.metrics.timing("mam.lookup", performance.now() - t0);
      ctx.metrics.count("mam.lookups");
      ctx.metrics.count("mam.messages_found", found);
    } finally {
      await user.close();
    }
  },
});

/** The MAM query of this user's archive: the conversation `with`, from `start`, one RSM page after `after`. */
function query(queryid: string, withJid: string, start: string, max: number, after: string | undefined): Element {
  const field = (name: string, value: string, type?: string) =>
    xml("field", type ? { var: name, type } : { var: name }, xml("value", {}, value));
  const set = xml("set", { xmlns: NS.RSM }, xml("max", {}, String(max)));
  if (after) set.append(xml("after", {}, after));
  return xml(
    "query",
    { xmlns: NS.MAM, queryid },
    xml(
      "x",
      { xmlns: NS.DATA, type: "submit" },
      field("FORM_TYPE", NS.MAM, "hidden"),
      field("with", withJid),
      field("start", start),
    ),
    set,
  );
}

/** The `<result>` of query `queryid` in a message, if it is one. */
function resultOf(el: Element, queryid: string): Element | undefined {
  if (el.name !== "message") return undefined;
  const r = el.getChild("result", NS.MAM);
  return r && r.attrs.queryid === queryid ? r : undefined;
}
