/** Network addresses in settings: host names, XMPP server entries (TCP, WebSocket, BOSH) and NATS servers. */
import { isIP } from "node:net";

/** The endpoint schemes the XMPP client speaks: http(s):// is BOSH (XEP-0206), e.g. http://host:5280/http-bind. */
export const XMPP_SCHEMES = ["xmpp:", "xmpps:", "ws:", "wss:", "http:", "https:"] as const;

/** A host name (RFC 1123 labels; `_` tolerated), an IPv4 or an IPv6 address (bracketed or not). */
export function isHost(s: string): boolean {
  const bare = s.startsWith("[") && s.endsWith("]") ? s.slice(1, -1) : s;
  if (isIP(bare)) return true;
  return /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/.test(
    bare,
  );
}

/**
 * Why an `xmpp_servers` entry is unusable, or undefined: an xmpp://, xmpps://, ws://, wss:// URL with a host, or a
 * BOSH endpoint: any http:// or https:// URL is taken as one (its path names it: /http-bind, /bosh), so it needs one.
 */
export function xmppServerProblem(entry: string): string | undefined {
  const use =
    "use xmpp://host:5222, xmpps://host:5223, ws://host:5280/xmpp-websocket, wss://... or BOSH http://host:5280/http-bind";
  let u: URL;
  try {
    u = new URL(entry);
  } catch {
    return `entry '${entry}' is not a URL (${use})`;
  }
  if (!(XMPP_SCHEMES as readonly string[]).includes(u.protocol))
    return `entry '${entry}' has the unknown scheme ${u.protocol} (${use})`;
  if (u.hostname === "" || !isHost(u.hostname)) return `entry '${entry}' has no valid host (${use})`;
  if ((u.protocol === "http:" || u.protocol === "https:") && u.pathname === "/")
    return `BOSH entry '${entry}' has no path (${use})`;
  return undefined;
}

/** Why a `nats_url` entry is unusable: `host:port`, `nats://host:port` or `tls://host:port`. */
export function natsServerProblem(entry: string): string | undefined {
  let u: URL;
  try {
    u = new URL(entry.includes("://") ? entry : `nats://${entry}`);
  } catch {
    return `entry '${entry}' is not a NATS URL (use nats://host:4222 or host:4222)`;
  }
  if (u.protocol !== "nats:" && u.protocol !== "tls:")
    return `entry '${entry}' has the unknown scheme ${u.protocol} (use nats:// or tls://)`;
  if (u.hostname === "" || !isHost(u.hostname)) return `entry '${entry}' has no valid host (use nats://host:4222)`;
  return undefined;
}
