/**
 * Stanza predicates (`is.*`, for `user.waitFor`/`poll`) and builders (`iq.*`) for what scenarios wait for and send,
 * and the namespaces of the XEPs the built-in scenarios speak (`NS`).
 */
import { pathElement } from "../metrics/names.js";
import { xml, type Element } from "./xml.js";

/** Namespaces scenarios use. */
export const NS = {
  CLIENT: "jabber:client",
  PING: "urn:xmpp:ping",
  ROSTER: "jabber:iq:roster",
  REGISTER: "jabber:iq:register",
  VERSION: "jabber:iq:version",
  DISCO_INFO: "http://jabber.org/protocol/disco#info",
  DISCO_ITEMS: "http://jabber.org/protocol/disco#items",
  RECEIPTS: "urn:xmpp:receipts",
  MAM: "urn:xmpp:mam:2",
  RSM: "http://jabber.org/protocol/rsm",
  FORWARD: "urn:xmpp:forward:0",
  DATA: "jabber:x:data",
  PUBSUB: "http://jabber.org/protocol/pubsub",
  PUBSUB_OWNER: "http://jabber.org/protocol/pubsub#owner",
  PUBSUB_EVENT: "http://jabber.org/protocol/pubsub#event",
  MUC: "http://jabber.org/protocol/muc",
  MUC_USER: "http://jabber.org/protocol/muc#user",
} as const;

/** A stanza predicate. */
export type StanzaPredicate = (el: Element) => boolean;

/** A JID matches `want` when equal, or when `want` is bare and `jid` is that bare JID with any resource. */
export function jidMatches(jid: unknown, want: string): boolean {
  if (typeof jid !== "string") return false;
  if (jid === want) return true;
  return (
    !want.includes("/") &&
    jid.length > want.length &&
    jid.charCodeAt(want.length) === 47 /* "/" */ &&
    jid.startsWith(want)
  );
}

/** The bare part of a JID (`user@host/res` -> `user@host`). */
export function bareJid(jid: string): string {
  const i = jid.indexOf("/");
  return i < 0 ? jid : jid.slice(0, i);
}

/** Presence types; "available" is the presence without a type attribute. */
export type PresenceType =
  "available" | "unavailable" | "subscribe" | "subscribed" | "unsubscribe" | "unsubscribed" | "probe" | "error";

/** Predicates for `user.waitFor` and `user.poll`. A `from` that is a bare JID matches any of its resources. */
export const is = {
  /** A `<message>` (of `type`, from `from`, when given). */
  message(opts: { from?: string; type?: string } = {}): StanzaPredicate {
    const { from, type } = opts;
    return (el) =>
      el.name === "message" &&
      (type === undefined || (el.attrs.type ?? "normal") === type) &&
      (from === undefined || jidMatches(el.attrs.from, from));
  },

  /** A chat message with a body (from `from`, when given); error bounces and receipts without a body do not match. */
  chat(opts: { from?: string } = {}): StanzaPredicate {
    const { from } = opts;
    return (el) =>
      el.name === "message" &&
      el.attrs.type === "chat" &&
      (from === undefined || jidMatches(el.attrs.from, from)) &&
      el.getChild("body") !== undefined;
  },

  /** A `<presence>` (of `type`, "available" meaning no type attribute, from `from`, when given). */
  presence(opts: { from?: string; type?: PresenceType } = {}): StanzaPredicate {
    const { from, type } = opts;
    const want = type === "available" ? undefined : type;
    return (el) =>
      el.name === "presence" &&
      (type === undefined || el.attrs.type === want) &&
      (from === undefined || jidMatches(el.attrs.from, from));
  },

  /** An `<iq>` (of `type`, with `id`, when given). */
  iq(opts: { type?: "get" | "set" | "result" | "error"; id?: string } = {}): StanzaPredicate {
    const { type, id } = opts;
    return (el) =>
      el.name === "iq" && (type === undefined || el.attrs.type === type) && (id === undefined || el.attrs.id === id);
  },

  /** The result of the IQ with this id. */
  iqResult(id: string): StanzaPredicate {
    return (el) => el.name === "iq" && el.attrs.type === "result" && el.attrs.id === id;
  },

  /** The error reply to the IQ with this id. */
  iqError(id: string): StanzaPredicate {
    return (el) => el.name === "iq" && el.attrs.type === "error" && el.attrs.id === id;
  },

  /** A roster push (RFC 6121 2.1.6): an IQ set with a roster query (for `jid`'s item, when given). */
  rosterPush(opts: { jid?: string } = {}): StanzaPredicate {
    const { jid } = opts;
    return (el) => {
      if (el.name !== "iq" || el.attrs.type !== "set") return false;
      const q = el.getChild("query", NS.ROSTER);
      return q !== undefined && (jid === undefined || q.getChildren("item").some((i) => i.attrs.jid === jid));
    };
  },

  /** A XEP-0184 delivery receipt (for the message with `id`, when given; from `from`, when given). */
  receipt(opts: { id?: string; from?: string } = {}): StanzaPredicate {
    const { id, from } = opts;
    return (el) => {
      if (
        el.name !== "message" ||
        el.attrs.type === "error" ||
        (from !== undefined && !jidMatches(el.attrs.from, from))
      )
        return false;
      const r = el.getChild("received", NS.RECEIPTS);
      return r !== undefined && (id === undefined || r.attrs.id === id);
    };
  },

  /** A pubsub event notification (XEP-0060 8.1; PEP) from `from`, of `node`, when given. */
  pubsubEvent(opts: { from?: string; node?: string } = {}): StanzaPredicate {
    const { from, node } = opts;
    return (el) => {
      if (el.name !== "message" || (from !== undefined && !jidMatches(el.attrs.from, from))) return false;
      const items = el.getChild("event", NS.PUBSUB_EVENT)?.getChild("items");
      return items !== undefined && (node === undefined || items.attrs.node === node);
    };
  },

  /** A stanza with a child `name` in namespace `xmlns`. */
  having(name: string, xmlns?: string): StanzaPredicate {
    return (el) => el.getChild(name, xmlns) !== undefined;
  },

  /** Every predicate holds. */
  all(...preds: StanzaPredicate[]): StanzaPredicate {
    return (el) => preds.every((p) => p(el));
  },
};

let iqSeq = 0;

/** A fresh IQ id (unique in this process). */
export function nextIqId(): string {
  return `q${(++iqSeq).toString(36)}`;
}

function build(type: "get" | "set", to: string | undefined, child: Element | undefined): Element {
  const attrs: Record<string, string> = { type, id: nextIqId() };
  if (to) attrs.to = to;
  return child ? xml("iq", attrs, child) : xml("iq", attrs);
}

/** IQ builders; each has a fresh `id`. `to` undefined addresses the user's own account (roster, PEP, MAM). */
export const iq = {
  /** `<iq type="get" to=... id=...>child</iq>`. */
  get(to: string | undefined, child: Element): Element {
    return build("get", to, child);
  },
  /** `<iq type="set" to=... id=...>child</iq>`. */
  set(to: string | undefined, child: Element): Element {
    return build("set", to, child);
  },
  /** The result answering `request` (an IQ get or set a scenario received), with `child` when given. */
  result(request: Element, child?: Element): Element {
    const attrs: Record<string, string> = { type: "result", id: String(request.attrs.id) };
    if (request.attrs.from) attrs.to = String(request.attrs.from);
    return child ? xml("iq", attrs, child) : xml("iq", attrs);
  },
};

/** Short names of well-known IQ payloads (`<query xmlns=...>` says nothing by its name alone). */
const KIND_BY_NS: Readonly<Record<string, string>> = {
  [NS.ROSTER]: "roster",
  [NS.MAM]: "mam",
  [NS.DISCO_INFO]: "disco_info",
  [NS.DISCO_ITEMS]: "disco_items",
  [NS.REGISTER]: "register",
  [NS.VERSION]: "version",
  [NS.PING]: "ping",
  [NS.PUBSUB]: "pubsub",
  [NS.PUBSUB_OWNER]: "pubsub_owner",
  "http://jabber.org/protocol/muc#owner": "muc_owner",
  "http://jabber.org/protocol/muc#admin": "muc_admin",
};

/**
 * The kind of an IQ, as its metric names it (`xmpp.iq.<kind>`): a known payload namespace's short name, else the
 * payload element's name; "empty" without a payload. Always one metric path element.
 */
export function iqKind(el: Element): string {
  const child = el.getChildElements()[0];
  if (!child) return "empty";
  const byNs = KIND_BY_NS[String(child.attrs.xmlns ?? "")];
  return byNs ?? pathElement(child.name);
}
