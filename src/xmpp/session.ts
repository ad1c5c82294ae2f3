/** Connecting a user: endpoint, credentials, login attempts with retries and timeouts, XEP-0077 registration. */
import { TimeoutError, UserAbortedError, errorMessage } from "../errors.js";
import { XmppConnection } from "./connection.js";
import { removedWithForce } from "./forced-removal.js";
import { fromTemplate, serverFor } from "./templates.js";
import { xml } from "./xml.js";
import { XmppError, classifyFailure, hintFor } from "./xmpp-error.js";
import { XmppUser, type XmppContext } from "./xmpp-user.js";

const NS_REGISTER = "jabber:iq:register";

/** Per-connection choices; defaults come from the run's settings. */
export interface ConnectOptions {
  /** An endpoint (xmpp://, xmpps://, ws://, wss://, BOSH http:// or https://); default: `xmpp_servers` picked by user ID. */
  server?: string;
  username?: string;
  password?: string;
  resource?: string;
  /** Register the account with XEP-0077 before logging in (an existing account is fine). */
  register?: boolean;
  /** Negotiate STARTTLS on xmpp:// (the login fails when the server does not offer it); default: `xmpp_starttls`. */
  starttls?: boolean;
  timeoutMs?: number;
}

/** Parsed endpoints by their text: a run has a handful, and parsing one per connection costs CPU and garbage. */
const serviceUrls = new Map<string, URL>();

/** The endpoint as a URL; throws XmppError (with a hint) for one that is not xmpp://, xmpps://, ws://, wss://, http(s)://. */
function serviceUrl(service: string): URL {
  const known = serviceUrls.get(service);
  if (known) return known;
  let u: URL;
  try {
    u = new URL(service);
  } catch {
    throw new XmppError(
      "XMPP_CONNECT_FAILED",
      "connect",
      "other",
      `xmpp_servers entry '${service}' is not a URL`,
      "use xmpp://host:5222, xmpps://host:5223, ws://host:5280/xmpp-websocket, wss://... or BOSH http://host:5280/http-bind",
    );
  }
  if (!["xmpp:", "xmpps:", "ws:", "wss:", "http:", "https:"].includes(u.protocol)) {
    throw new XmppError(
      "XMPP_CONNECT_FAILED",
      "connect",
      "other",
      `xmpp_servers entry '${service}' has an unknown scheme ${u.protocol}`,
      "use xmpp://, xmpps://, ws://, wss://, or http(s):// for BOSH",
    );
  }
  if (serviceUrls.size < 1000) serviceUrls.set(service, u);
  return u;
}

/** Connects user `ctx.id`, retrying `xmpp_connect_retries` times (never on bad credentials); online when it resolves. */
export async function connectUser(ctx: XmppContext, opts: ConnectOptions = {}): Promise<XmppUser> {
  const s = ctx.settings;
  const service = opts.server ?? serverFor(ctx.id, s.xmpp_servers);
  const previousPhase = ctx.phase;
  ctx.phase = "connect";
  let url: URL;
  try {
    url = serviceUrl(service);
  } catch (e) {
    ctx.metrics.count("xmpp.connection_failures");
    ctx.metrics.count("xmpp.connection_failures.config");
    throw e;
  }
  const username = opts.username ?? fromTemplate(s.xmpp_user_template, ctx.id);
  const password = opts.password ?? fromTemplate(s.xmpp_password_template, ctx.id);
  // flat: a joined string would hold its two parts (two more strings per user) for as long as the user
  const bareJid = Buffer.from(`${username}@${s.xmpp_domain}`).toString();
  const attempts = 1 + s.xmpp_connect_retries;
  for (let attempt = 1; ; attempt++) {
    if (removedWithForce(ctx)) throw new UserAbortedError(ctx.id);
    const t0 = performance.now();
    const conn = new XmppConnection({
      service: url,
      domain: s.xmpp_domain,
      username,
      password,
      resource: opts.resource ?? "amoc",
      mechanism: s.xmpp_sasl_mechanism,
      timeoutMs: opts.timeoutMs ?? s.xmpp_connect_timeout,
      starttls: opts.starttls ?? s.xmpp_starttls,
      streamManagement: s.xmpp_stream_management,
      tlsVerify: s.xmpp_tls_verify,
      beforeAuth: opts.register ? (c) => register(c, ctx, s.xmpp_domain, username, password) : undefined,
    });
    // the user exists from the first attempt on: a forced removal also ends a login in progress
    const user = new XmppUser(conn, ctx, bareJid);
    try {
      await conn.start();
      ctx.metrics.timing("xmpp.connection", performance.now() - t0);
      ctx.metrics.count("xmpp.connections");
      ctx.phase = previousPhase;
      return user;
    } catch (e) {
      user.detach();
      if (e instanceof UserAbortedError) throw e;
      const reason = e instanceof TimeoutError ? "timeout" : classifyFailure(e);
      ctx.metrics.count("xmpp.connection_failures");
      ctx.metrics.count(`xmpp.connection_failures.${reason}`);
      // ours already says what to change (STARTTLS asked for but not offered): another attempt would fail the same way
      if (e instanceof XmppError) throw e;
      if (reason === "auth" || attempt >= attempts) {
        throw new XmppError(
          "XMPP_CONNECT_FAILED",
          reason === "auth" ? "auth" : "connect",
          reason,
          `${reason}: ${errorMessage(e)}`,
          hintFor(reason),
          e,
        );
      }
      ctx.log.debug({ msg: "xmpp_connect_retry", attempt, reason, err: errorMessage(e) });
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** (attempt - 1))));
    }
  }
}

/** XEP-0077 in-band registration inside the open, unauthenticated stream; "conflict" means the account exists. */
async function register(
  c: XmppConnection,
  ctx: XmppContext,
  domain: string,
  username: string,
  password: string,
): Promise<void> {
  const t0 = performance.now();
  try {
    await c.request(
      xml(
        "iq",
        { type: "set", to: domain },
        xml("query", NS_REGISTER, xml("username", {}, username), xml("password", {}, password)),
      ),
      10_000,
    );
    ctx.metrics.count("xmpp.registrations");
    ctx.metrics.timing("xmpp.registration", performance.now() - t0);
  } catch (e) {
    if ((e as { condition?: string }).condition !== "conflict") {
      ctx.metrics.count("xmpp.registration_failures");
      throw Object.assign(
        new Error(`registration refused: ${(e as { condition?: string }).condition ?? errorMessage(e)}`),
        { name: "SASLError" },
      );
    }
    ctx.metrics.count("xmpp.registration_conflicts");
  }
}
