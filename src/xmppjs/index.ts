/**
 * `amoc-ts/xmppjs`: an xmpp.js (`@xmpp/client` 0.14) `Client` set up for a virtual user, for authors who want
 * xmpp.js's API and middleware instead of the lean client of `amoc-ts/xmpp`. The user's JID, password and server
 * come from the run's settings (`xmpp_servers` by user ID, the user and password templates); `ctx.signal` stops it;
 * its login is timed and its failures counted under the lean client's names (xmpp.connection, xmpp.connections,
 * xmpp.connection_failures[.<reason>]). It costs more per user than the lean client: see README and
 * docs/benchmarks.md.
 */
import { client, xml, type Client } from "@xmpp/client";
import WebSocket from "ws";
import { TimeoutError, UserAbortedError, errorMessage } from "../errors.js";
import { fromTemplate, serverFor } from "../xmpp/templates.js";
import type { XmppContext } from "../xmpp/xmpp-user.js";
import { XmppError, classifyFailure, hintFor } from "../xmpp/xmpp-error.js";
import { guardXmppJsRejections } from "./rejection-guard.js";

export { xml, type Client };
export type { Element } from "@xmpp/xml";

/** Per-client choices; defaults come from the run's settings. */
export interface XmppJsOptions {
  /** An endpoint (xmpp://, xmpps://, ws://, wss://); default: `xmpp_servers` picked by user ID. */
  server?: string;
  username?: string;
  password?: string;
  resource?: string;
}

/** What `connectClient` needs from a user's context (a scenario's `UserContext` has it all). */
export interface XmppJsContext extends XmppContext {
  readonly signal: AbortSignal;
}

/**
 * Starts an xmpp.js client for user `ctx.id` and resolves once it is online (bound). xmpp.js's own reconnect is off
 * (a load test counts a lost connection instead of hiding it); `ctx.signal` (forced removal) stops the client. With
 * `xmpp_tls_verify` off, certificate checks are turned off for the whole process (NODE_TLS_REJECT_UNAUTHORIZED=0):
 * xmpp.js upgrades to STARTTLS whenever a server offers it and takes no TLS options. The first call installs a guard
 * against the unhandled rejection xmpp.js leaves after a failed login (src/xmppjs/rejection-guard.ts).
 */
export async function connectClient(ctx: XmppJsContext, opts: XmppJsOptions = {}): Promise<Client> {
  const s = ctx.settings;
  const service = opts.server ?? serverFor(ctx.id, s.xmpp_servers);
  const username = opts.username ?? fromTemplate(s.xmpp_user_template, ctx.id);
  const password = opts.password ?? fromTemplate(s.xmpp_password_template, ctx.id);
  if (!s.xmpp_tls_verify) process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  guardXmppJsRejections();
  // Node 20 has no global WebSocket, which @xmpp/websocket needs for ws:// and wss://
  const g = globalThis as { WebSocket?: unknown };
  g.WebSocket ??= WebSocket;
  const previousPhase = ctx.phase;
  ctx.phase = "connect";
  const x = client({
    service,
    domain: s.xmpp_domain,
    resource: opts.resource ?? "amoc",
    // each step's timeout (stream open, STARTTLS, SASL, close); xmpp.js's default of 2 s fails logins under load
    timeout: s.xmpp_connect_timeout,
    // a function, so PLAIN is used on a plain socket too (xmpp.js refuses it otherwise)
    credentials: (authenticate, mechanisms) =>
      authenticate(
        { username, password },
        mechanisms.includes(s.xmpp_sasl_mechanism) ? s.xmpp_sasl_mechanism : (mechanisms[0] ?? "PLAIN"),
      ),
  });
  x.reconnect.stop();
  x.on("error", (e: Error) => ctx.log.debug({ msg: "xmppjs_error", user: ctx.id, err: errorMessage(e) }));
  const onAbort = () => void x.stop().catch(() => undefined);
  if (ctx.signal.aborted) throw new UserAbortedError(ctx.id);
  ctx.signal.addEventListener("abort", onAbort, { once: true });
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      x.start(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new TimeoutError("xmpp.js login", s.xmpp_connect_timeout)),
          s.xmpp_connect_timeout,
        );
      }),
    ]);
  } catch (e) {
    ctx.signal.removeEventListener("abort", onAbort);
    await x.stop().catch(() => undefined);
    if (ctx.signal.aborted) throw new UserAbortedError(ctx.id);
    const reason = e instanceof TimeoutError ? "timeout" : classifyFailure(e);
    ctx.metrics.count("xmpp.connection_failures");
    ctx.metrics.count(`xmpp.connection_failures.${reason}`);
    throw new XmppError(
      "XMPP_CONNECT_FAILED",
      reason === "auth" ? "auth" : "connect",
      reason,
      `${reason}: ${errorMessage(e)}`,
      hintFor(reason),
      e,
    );
  } finally {
    clearTimeout(timer);
  }
  ctx.metrics.timing("xmpp.connection", performance.now() - t0);
  ctx.metrics.count("xmpp.connections");
  x.once("offline", () => {
    ctx.signal.removeEventListener("abort", onAbort);
    ctx.metrics.count("xmpp.disconnections");
  });
  ctx.phase = previousPhase;
  return x;
}
