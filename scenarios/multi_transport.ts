/**
 * multi_transport: users spread over the transports by ID (with the default list: user 1 TCP, 2 direct TLS,
 * 3 STARTTLS, 4 WebSocket, 5 TCP, ...; BOSH when `transports` lists it), each logging in over its own and chatting
 * with its neighbour (1<->2, 3<->4, ...) on another, as one_to_one does: delivery across transports.
 *
 * The endpoints come from `xmpp_servers`, one per scheme: `tcp` and `starttls` use the first xmpp:// entry, `tls`
 * the first xmpps://, `ws` the first ws:// or wss://, `bosh` the first http:// or https:// (XEP-0206). E.g.
 *   AMOC_XMPP_SERVERS=xmpp://127.0.0.1:5222,xmpps://127.0.0.1:5223,ws://127.0.0.1:5280/xmpp-websocket
 * (AMOC_XMPP_TLS_VERIFY=0 for a test server's self-signed certificate).
 *
 * Metrics: transport.<name>.connection (ms to online over that transport), transport.<name>.connections,
 * transport.<name>.messages_received; and xmpp.messages_sent, xmpp.messages_received, xmpp.message_ttd.
 * With a healthy server xmpp.messages_received == xmpp.messages_sent.
 *
 * Variables: transports (comma-separated list of tcp, tls, starttls, ws, bosh, dealt by ID), message_count,
 * message_interval (updatable), neighbour_timeout, receive_timeout.
 */
import { defineScenario, duration, nonNegative } from "amoc-ts";
import { XmppError, connectUser, meetPeer, neighbourOf, userJid } from "amoc-ts/xmpp";

const KNOWN = ["tcp", "tls", "starttls", "ws", "bosh"];
const SCHEMES: Record<string, string[]> = {
  tcp: ["xmpp:"],
  starttls: ["xmpp:"],
  tls: ["xmpps:"],
  ws: ["ws:", "wss:"],
  bosh: ["http:", "https:"],
};

const list = (s: string) =>
  s
    .split(",")
    .map((t) => t.trim())
    .filter(Boolean);

export default defineScenario({
  variables: {
    transports: {
      default: "tcp,tls,starttls,ws",
      doc: "transports dealt to users by ID, comma-separated: tcp, tls (direct TLS), starttls, ws (WebSocket), bosh",
      verify: (v: string) =>
        (list(v).length > 0 && list(v).every((t) => KNOWN.includes(t))) || `must list some of ${KNOWN.join(", ")}`,
    },
    message_count: { default: 3, doc: "chats each user sends to its neighbour", verify: nonNegative },
    message_interval: { default: 100, doc: "ms between two chats", verify: duration, updatable: true },
    neighbour_timeout: { default: 30_000, doc: "ms to wait for the neighbour to come online", verify: duration },
    receive_timeout: { default: 30_000, doc: "ms to wait for the neighbour's chats", verify: duration },
  },
  init(ctx) {
    // every transport needs its endpoint: say which is missing before any user starts
    const servers: Record<string, string> = {};
    for (const t of new Set(list(ctx.vars.transports))) {
      const url = ctx.settings.xmpp_servers.find((s) => SCHEMES[t]?.some((scheme) => s.startsWith(`${scheme}//`)));
      if (!url)
        throw new XmppError(
          "CONFIG_INVALID",
          "init",
          "other",
          `transport ${t} has no ${SCHEMES[t]?.join(" or ")}// endpoint in xmpp_servers`,
          "add one to AMOC_XMPP_SERVERS, or drop the transport from `transports`",
        );
      servers[t] = url;
    }
    return { servers, transports: list(ctx.vars.transports) };
  },
  async start(id, state, ctx) {
    const v = ctx.vars;
    const transport = state.transports[(id - 1) % state.transports.length] ?? "tcp";
    const peer = userJid(neighbourOf(id), ctx.settings);
    const t0 = performance.now();
    const user = await connectUser(ctx, { server: state.servers[transport], starttls: transport === "starttls" });
    ctx.metrics.timing(`transport.${transport}.connection`, performance.now() - t0);
    ctx.metrics.count(`transport.${transport}.connections`);
    try {
      await user.sendPresence();
      ctx.phase = "meet";
      await meetPeer(user, peer, v.neighbour_timeout);
      ctx.phase = "send";
      for (let i = 0; i < v.message_count; i++) {
        if (i > 0 && v.message_interval > 0) await ctx.sleep(v.message_interval);
        await user.sendChat(peer, `message ${i + 1} from ${id} over ${transport}`);
      }
      ctx.phase = "receive";
      for (let i = 0; i < v.message_count; i++) {
        await user.waitForChat(v.receive_timeout, peer);
        ctx.metrics.count(`transport.${transport}.messages_received`);
      }
    } finally {
      await user.close();
    }
  },
});
