/**
 * pubsub: XEP-0163 PEP publish and notify (XEP-0060 underneath). Users form groups of `group_size` by ID (users
 * 1..group_size, then the next group_size, ...): the first of a group publishes, the others subscribe. The
 * publisher creates a PEP node `node` on its own account (access model open); each subscriber says hello with
 * directed presence, and once the publisher answers (the node exists) subscribes and says so with directed presence
 * again; once all are in, the publisher
 * publishes `item_count` items, `publish_interval` ms apart, each carrying its send time; each subscriber waits for
 * every notification. Subscribers then send unavailable presence to the publisher, which deletes the node.
 *
 * Metrics: pubsub.notification (ms from publishing to the notification's arrival), pubsub.published,
 * pubsub.notifications, pubsub.subscriptions, pubsub.missing (notifications not received within `receive_timeout`),
 * pubsub.retries (IQs retried after ejabberd's transient "Database failure"), xmpp.iq.pubsub (ms per publish,
 * subscribe and create IQ).
 * With a healthy server pubsub.notifications == pubsub.published x (group_size - 1).
 *
 * Run a multiple of group_size users (a publisher waits `group_timeout` for a full group).
 *
 * Variables: group_size, node, item_count, publish_interval (updatable), group_timeout (ms for the group to gather),
 * receive_timeout, iq_timeout.
 */
import { defineScenario, duration, nonNegative, type UserContext, type VarsOf } from "amoc-ts";
import { IqError, NS, bareJid, connectUser, is, iq, userJid, xml, type Element, type XmppUser } from "amoc-ts/xmpp";

const NS_ITEM = "urn:amoc-ts:pubsub";

const variables = {
  group_size: {
    default: 5,
    doc: "users per group: one publisher and group_size - 1 subscribers",
    verify: (v: number) => (Number.isInteger(v) && v >= 2) || "must be an integer >= 2",
  },
  node: { default: "urn:amoc-ts:pubsub:load", doc: "the PEP node each publisher publishes to" },
  item_count: { default: 5, doc: "items each publisher publishes", verify: nonNegative },
  publish_interval: { default: 100, doc: "ms between two publishes", verify: duration, updatable: true },
  group_timeout: {
    default: 30_000,
    doc: "ms for the publisher to wait for its subscribers (and they for its node)",
    verify: duration,
  },
  receive_timeout: { default: 30_000, doc: "ms a subscriber waits for each notification", verify: duration },
  iq_timeout: { default: 10_000, doc: "ms to wait for each pubsub IQ", verify: duration },
};
/** A user's context, typed from the variables: what the helpers below take. */
type Ctx = UserContext<VarsOf<typeof variables>>;

export default defineScenario({
  variables,
  async start(id, _state, ctx) {
    const v = ctx.vars;
    const first = Math.floor((id - 1) / v.group_size) * v.group_size + 1;
    const publisher = userJid(first, ctx.settings);
    const user = await connectUser(ctx);
    try {
      await user.sendPresence();
      if (id === first) await publish(user, ctx, id);
      else await subscribe(user, ctx, publisher);
    } finally {
      await user.close();
    }
  },
});

/**
 * ejabberd's Mnesia aborts a pubsub transaction that collides with a concurrent one ("internal-server-error -
 * Database failure") whatever the IQ (create, publish, subscribe, delete): such an IQ is tried again a little later,
 * up to 5 times, and counted (pubsub.retries). Any other error is the scenario's failure.
 */
async function withRetries<T>(ctx: Ctx, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof IqError && e.condition === "internal-server-error") || attempt >= 5) throw e;
      ctx.metrics.count("pubsub.retries");
      await ctx.sleep(50 * attempt);
    }
  }
}

async function publish(user: XmppUser, ctx: Ctx, id: number): Promise<void> {
  const v = ctx.vars;
  ctx.phase = "create";
  const create = xml(
    "pubsub",
    { xmlns: NS.PUBSUB },
    xml("create", { node: v.node }),
    xml("configure", {}, nodeConfig()),
  );
  try {
    await withRetries(ctx, () => user.request(iq.set(undefined, create), v.iq_timeout));
  } catch (e) {
    if (!(e instanceof IqError && e.condition === "conflict")) throw e;
    // the node of a run that did not end cleanly: make it open again
    await withRetries(ctx, () =>
      user.request(
        iq.set(undefined, xml("pubsub", { xmlns: NS.PUBSUB_OWNER }, xml("configure", { node: v.node }, nodeConfig()))),
        v.iq_timeout,
      ),
    );
  }
  ctx.phase = "gather";
  // a subscriber says hello with directed presence; we answer once the node exists; it subscribes and says so
  const groupEnd = Math.floor((id - 1) / v.group_size) * v.group_size + v.group_size;
  const members = new Set(Array.from({ length: groupEnd - id }, (_, k) => userJid(id + 1 + k, ctx.settings)));
  const fromMember = (el: Element) =>
    is.presence({ type: "available" })(el) && members.has(bareJid(String(el.attrs.from)));
  const subscribed = new Set<string>();
  const deadline = Date.now() + v.group_timeout;
  while (subscribed.size < members.size) {
    const el = await user.waitFor(fromMember, Math.max(1, deadline - Date.now()), `subscribers of ${v.node}`);
    const from = bareJid(String(el.attrs.from));
    if (el.getChildText("status") === SUBSCRIBED) subscribed.add(from);
    else await user.sendPresence({ to: from });
  }
  ctx.phase = "publish";
  for (let i = 0; i < v.item_count; i++) {
    if (i > 0 && v.publish_interval > 0) await ctx.sleep(v.publish_interval);
    const entry = xml(
      "entry",
      { xmlns: NS_ITEM, sent: (performance.timeOrigin + performance.now()).toFixed(3) },
      `item ${i + 1} of ${id}`,
    );
    await withRetries(ctx, () =>
      user.request(
        iq.set(
          undefined,
          xml(
            "pubsub",
            { xmlns: NS.PUBSUB },
            xml("publish", { node: v.node }, xml("item", { id: `i${i + 1}` }, entry)),
          ),
        ),
        v.iq_timeout,
      ),
    );
    ctx.metrics.count("pubsub.published");
  }
  ctx.phase = "drain";
  // the subscribers leave (unavailable presence) once they have every item; then the node goes
  const left = new Set<string>();
  const leftDeadline = Date.now() + v.receive_timeout * Math.max(1, v.item_count);
  while (left.size < members.size) {
    const el = await user
      .waitFor(
        (e) => is.presence({ type: "unavailable" })(e) && members.has(bareJid(String(e.attrs.from))),
        Math.max(1, leftDeadline - Date.now()),
        `subscribers leaving ${v.node}`,
      )
      .catch(() => undefined);
    if (!el) break;
    left.add(bareJid(String(el.attrs.from)));
  }
  ctx.phase = "delete";
  await withRetries(ctx, () =>
    user.request(
      iq.set(undefined, xml("pubsub", { xmlns: NS.PUBSUB_OWNER }, xml("delete", { node: v.node }))),
      v.iq_timeout,
    ),
  );
}

/** What a subscriber's directed presence says once it is subscribed. */
const SUBSCRIBED = "subscribed";

async function subscribe(user: XmppUser, ctx: Ctx, publisher: string): Promise<void> {
  const v = ctx.vars;
  ctx.phase = "gather";
  // hello until the publisher answers (it may not be online yet, and then the presence is lost)
  const deadline = Date.now() + v.group_timeout;
  for (;;) {
    await user.sendPresence({ to: publisher });
    const answer = await user
      .waitFor(
        is.presence({ from: publisher, type: "available" }),
        Math.min(1000, Math.max(1, deadline - Date.now())),
        `presence of ${publisher}`,
      )
      .catch((e: unknown) => {
        if (Date.now() >= deadline) throw e;
        return undefined;
      });
    if (answer) break;
  }
  ctx.phase = "subscribe";
  await withRetries(ctx, () =>
    user.request(
      iq.set(publisher, xml("pubsub", { xmlns: NS.PUBSUB }, xml("subscribe", { node: v.node, jid: user.jid }))),
      v.iq_timeout,
    ),
  );
  ctx.metrics.count("pubsub.subscriptions");
  await user.sendPresence({ to: publisher }, xml("status", {}, SUBSCRIBED));
  ctx.phase = "receive";
  const notification = is.pubsubEvent({ from: publisher, node: v.node });
  let got = 0;
  for (; got < v.item_count; got++) {
    const el = await user.waitFor(notification, v.receive_timeout, `notification of ${v.node}`).catch(() => undefined);
    if (!el) break;
    const sent = Number(
      el.getChild("event", NS.PUBSUB_EVENT)?.getChild("items")?.getChild("item")?.getChild("entry", NS_ITEM)?.attrs
        .sent,
    );
    if (Number.isFinite(sent))
      ctx.metrics.timing("pubsub.notification", Math.max(0, performance.timeOrigin + performance.now() - sent));
    ctx.metrics.count("pubsub.notifications");
  }
  if (got < v.item_count) ctx.metrics.count("pubsub.missing", v.item_count - got);
  await user.sendPresence({ to: publisher, type: "unavailable" });
}

/** The node configuration: anyone may subscribe (PEP's default, "presence", needs a presence subscription). */
function nodeConfig(): Element {
  return xml(
    "x",
    { xmlns: NS.DATA, type: "submit" },
    field("FORM_TYPE", `${NS.PUBSUB}#node_config`, "hidden"),
    field("pubsub#access_model", "open"),
    field("pubsub#max_items", "10"),
  );
}

function field(name: string, value: string, type?: string): Element {
  return xml("field", type ? { var: name, type } : { var: name }, xml("value", {}, value));
}
