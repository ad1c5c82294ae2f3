/**
 * muc: users meet in multi-user chat rooms by ID (users 1..room_size in room_1, the next room_size in room_2, ...),
 * wait until their room is full, each send `message_count` groupchat messages, and each receive every message
 * the others sent (time to delivery measured on arrival). So, with full rooms,
 * xmpp.messages_received == xmpp.messages_sent * (room_size - 1), and xmpp.groupchat_echoes == xmpp.messages_sent.
 * With `meet_by: "coordinator"` rooms are formed by the cluster-wide coordinator instead: room_size users, in the
 * order they come online on any node, share a room (a group the join_timeout leaves partial gets a smaller room).
 */
import { defineScenario, nonNegative, oneOf, positiveInt, type UserContext } from "amoc-ts";
import { connectUser, xml, NS_TTD, type Element, type XmppUser } from "amoc-ts/xmpp";

const NS_MUC = "http://jabber.org/protocol/muc";
const NS_MUC_USER = "http://jabber.org/protocol/muc#user";
const NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner";

/** The room of user `id`. */
export function roomOf(id: number, v: { room_size: number; muc_service: string }): string {
  return `room_${Math.floor((id - 1) / v.room_size) + 1}@${v.muc_service}`;
}

const statusCodes = (el: Element): string[] =>
  (el.getChild("x", NS_MUC_USER)?.getChildren("status") ?? []).map((s) => String(s.attrs.code));

export default defineScenario({
  variables: {
    room_size: { default: 5, doc: "users per room", verify: positiveInt },
    muc_service: { default: "muc.localhost", doc: "the MUC service's domain" },
    message_count: { default: 3, doc: "groupchat messages each user sends", verify: nonNegative },
    message_interval: { default: 200, doc: "ms between two messages", verify: nonNegative, updatable: true },
    join_timeout: { default: 30_000, doc: "ms to wait for the room to fill", verify: nonNegative },
    receive_timeout: { default: 30_000, doc: "ms to wait for the others' messages", verify: nonNegative },
    linger_ms: { default: 0, doc: "ms to stay in the room afterwards", verify: nonNegative },
    meet_by: {
      default: "id",
      doc: "how rooms are formed: id (consecutive IDs) or coordinator (users as they come online, cluster-wide)",
      verify: oneOf("id", "coordinator"),
    },
  },
  async start(id, _state, ctx) {
    const v = ctx.vars;
    let room = roomOf(id, v);
    let size = v.room_size;
    const nick = `u${id}`;
    const user = await connectUser(ctx);
    try {
      await user.sendPresence();
      ctx.phase = "join";
      if (v.meet_by === "coordinator") {
        const group = await ctx.coordinate("muc", { groupSize: v.room_size, timeoutMs: v.join_timeout });
        room = `room_c${Math.min(...group.map((m) => m.id))}@${v.muc_service}`;
        size = group.length;
      }
      const occupants = await join(user, ctx, room, nick, v.join_timeout);
      const deadline = Date.now() + v.join_timeout;
      while (occupants.size < size && Date.now() < deadline) {
        const el = await user
          .waitFor((e) => isRoomPresence(e, room), Math.max(1, deadline - Date.now()), `occupants of ${room}`)
          .catch(() => undefined);
        if (el) track(occupants, el);
      }
      if (occupants.size < size) ctx.metrics.count("muc.room_incomplete");
      const expected = (occupants.size - 1) * v.message_count;
      ctx.phase = "send";
      for (let i = 0; i < v.message_count; i++) {
        if (i > 0 && v.message_interval > 0) await ctx.sleep(v.message_interval);
        await user.sendGroupchat(room, `message ${i + 1} from ${nick}`);
      }
      ctx.phase = "receive";
      const fromOthers = (el: Element) =>
        el.name === "message" &&
        el.attrs.type === "groupchat" &&
        String(el.attrs.from).startsWith(`${room}/`) &&
        el.attrs.from !== `${room}/${nick}` &&
        el.getChild("ttd", NS_TTD) !== undefined;
      for (let i = 0; i < expected; i++) await user.waitFor(fromOthers, v.receive_timeout, `groupchat in ${room}`);
      if (v.linger_ms > 0) await ctx.sleep(v.linger_ms);
      await user.sendPresence({ to: `${room}/${nick}`, type: "unavailable" });
    } finally {
      await user.close();
    }
  },
});

function isRoomPresence(el: Element, room: string): boolean {
  return el.name === "presence" && String(el.attrs.from).startsWith(`${room}/`);
}

function track(occupants: Set<string>, el: Element): void {
  if (el.attrs.type === "unavailable") occupants.delete(String(el.attrs.from));
  else if (el.attrs.type === undefined) occupants.add(String(el.attrs.from));
}

/**
 * Joins (creating the room as an instant room if we are first); a room another user is still creating is locked
 * for a moment, so a refused join is retried. Returns the occupants seen so far, us included.
 */
async function join(
  user: XmppUser,
  ctx: UserContext,
  room: string,
  nick: string,
  joinTimeoutMs: number,
): Promise<Set<string>> {
  const me = `${room}/${nick}`;
  const occupants = new Set<string>();
  for (let attempt = 1; ; attempt++) {
    await user.sendPresence({ to: me }, xml("x", { xmlns: NS_MUC }, xml("history", { maxstanzas: "0" })));
    const self = await user.waitFor(
      (el) => el.name === "presence" && el.attrs.from === me,
      joinTimeoutMs,
      `join of ${room}`,
    );
    if (self.attrs.type !== "error") {
      if (statusCodes(self).includes("201")) {
        await user.iq(
          xml(
            "iq",
            { type: "set", to: room },
            xml("query", { xmlns: NS_MUC_OWNER }, xml("x", { xmlns: "jabber:x:data", type: "submit" })),
          ),
        );
        ctx.metrics.count("muc.rooms_created");
      }
      occupants.add(me);
      // presences of occupants already in the room arrive before our own; they wait in the session's inbox
      for (let el = user.poll((e) => isRoomPresence(e, room)); el; el = user.poll((e) => isRoomPresence(e, room)))
        track(occupants, el);
      return occupants;
    }
    if (attempt >= 20)
      throw new Error(
        `cannot join ${room}: ${self
          .getChild("error")
          ?.children.map((c) => (c as Element).name)
          .join(",")}`,
      );
    ctx.metrics.count("muc.join_retries");
    await ctx.sleep(100 * attempt);
  }
}
