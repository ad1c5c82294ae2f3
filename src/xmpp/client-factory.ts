/**
 * Builds one xmpp.js client from its lower-level packages, with only what a load test needs: the transports,
 * optional STARTTLS, SASL (PLAIN, SCRAM-SHA-1, SCRAM-SHA-256) with the mechanism chosen by settings, resource
 * binding, IQ caller/callee (answers XEP-0199 pings), optional stream management. No reconnect module (a load
 * tool must not retry behind the scenario's back) and no SASL2/FAST/Bind2 (per-connection cost the server
 * under test may not even offer).
 */
import { Client, jid, xml } from "@xmpp/client-core";
import iqCallee from "@xmpp/iq/callee.js";
import iqCaller from "@xmpp/iq/caller.js";
import middleware from "@xmpp/middleware";
import resourceBinding from "@xmpp/resource-binding";
import sasl from "@xmpp/sasl";
import saslPlain from "@xmpp/sasl-plain";
import starttls from "@xmpp/starttls";
import streamFeatures from "@xmpp/stream-features";
import streamManagement from "@xmpp/stream-management";
import tcp from "@xmpp/tcp";
import tls from "@xmpp/tls";
import websocket from "@xmpp/websocket";
import SASLFactory from "saslmechanisms";
import type { Element } from "@xmpp/xml";
import { ScramSha1, ScramSha256 } from "./scram.js";

export { xml, jid };
export type { Element };

/** The part of an xmpp.js client this project uses. */
export interface RawClient {
  status: string;
  on(event: "stanza" | "element", fn: (el: Element) => void): void;
  on(event: "error", fn: (e: Error) => void): void;
  on(event: "status", fn: (s: string) => void): void;
  removeAllListeners(): void;
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(el: Element): Promise<void>;
  isSecure(): boolean;
  iqCaller: { request(el: Element, timeoutMs?: number): Promise<Element> };
  socket: { destroy?: () => void; socket?: { destroy?: () => void } } | null;
}

/** What a connection needs to know. */
export interface ClientOptions {
  service: string;
  domain: string;
  username: string;
  password: string;
  resource: string;
  /** PLAIN, SCRAM-SHA-1, SCRAM-SHA-256, or auto (the strongest offered). */
  mechanism: string;
  timeoutMs: number;
  starttls: boolean;
  streamManagement: boolean;
  /** Runs after the stream opens and before authentication (XEP-0077 registration). */
  beforeAuth?: (client: RawClient) => Promise<void>;
}

const AUTO_ORDER = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"];

/** Creates an offline client; call `start()` to connect. */
export function createClient(o: ClientOptions): RawClient {
  const entity = new Client({ service: o.service, domain: o.domain, timeout: o.timeoutMs });
  entity.jid = jid(o.username, o.domain);
  websocket({ entity });
  tcp({ entity });
  tls({ entity });
  const mw = middleware({ entity });
  const features = streamFeatures({ middleware: mw });
  const caller = iqCaller({ middleware: mw, entity });
  const callee = iqCallee({ middleware: mw, entity });
  callee.get("urn:xmpp:ping", "ping", () => ({}));
  // xmpp.js upgrades whenever the server offers STARTTLS; registering it only when asked is the opt-out
  if (o.starttls) starttls({ streamFeatures: features });
  const factory = new SASLFactory();
  // by name: the factory reads a bare mechanism's name from its prototype, where class fields are not
  factory.use("SCRAM-SHA-256", ScramSha256);
  factory.use("SCRAM-SHA-1", ScramSha1);
  saslPlain(factory);
  const client = Object.assign(entity, { iqCaller: caller }) as unknown as RawClient;
  // typed loosely: @types/xmpp__sasl describes the username/password object form, not the callback form used here
  const setupSasl = sasl as unknown as (deps: object, onAuthenticate: (done: (c: object, m: string) => Promise<void>, offered: string[]) => Promise<void>) => void;
  setupSasl({ streamFeatures: features, saslFactory: factory }, async (done, offered) => {
    if (o.beforeAuth) await o.beforeAuth(client);
    const want = o.mechanism.toUpperCase();
    const mech = want === "AUTO" ? AUTO_ORDER.find((m) => offered.includes(m)) : offered.includes(want) ? want : undefined;
    if (!mech) throw Object.assign(new Error(`server does not offer SASL ${want} (usable mechanisms it offers: ${offered.join(", ")})`), { name: "SASLError" });
    await done({ username: o.username, password: o.password }, mech);
  });
  if (o.streamManagement) streamManagement({ streamFeatures: features, entity, middleware: mw });
  resourceBinding({ iqCaller: caller, streamFeatures: features }, o.resource);
  return client;
}
