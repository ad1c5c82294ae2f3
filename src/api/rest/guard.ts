/**
 * Is this request meant for this node? The checks every route runs before auth, because a token alone does not stop
 * a browser being used against the node: a DNS-rebinding page reaches 127.0.0.1 under its own name (its Host header
 * names the attacker's domain), and any page can send a cross-site form post or a "simple" fetch. So:
 *   - `Host` must name this node: localhost, 127.0.0.1, [::1], the listen address or a name in api_allowed_hosts
 *     (the port in Host is not checked: a proxy or a port mapping may change it, and the name is what rebinding
 *     forges). Otherwise 421 Misdirected Request.
 *   - a state-changing method (PUT/PATCH/POST/DELETE) with an `Origin` that is not the node's own origin (an allowed
 *     name and the listen port), or a `Sec-Fetch-Site` other than same-origin/none (the browser says another site or
 *     another port sent it), is 403.
 */
import { AmocError } from "../../errors.js";

/** What the guard knows about the node. */
export interface GuardOptions {
  /** The listen address (api_host). */
  listenHost: string;
  /** Extra names (api_allowed_hosts). */
  allowedHosts: readonly string[];
  /** HTTPS: the default port of an Origin without one is 443. */
  tls: boolean;
  /** The port the node listens on (read per request: with api_port 0 it is known only after listen). */
  port(): number | undefined;
}

const STATE_CHANGING = new Set(["PUT", "PATCH", "POST", "DELETE"]);
const ALWAYS = ["localhost", "127.0.0.1", "[::1]"];

/** A host name as Host and Origin carry it: lower case, IPv6 in brackets, no trailing dot. */
export function normalHost(h: string): string {
  const x = h.trim().toLowerCase().replace(/\.$/, "");
  return x.includes(":") && !x.startsWith("[") ? `[${x}]` : x;
}

/** Splits a Host header into name and port ("[::1]:4000" → ["[::1]", "4000"]). */
export function splitHost(header: string): { name: string; port: string } {
  const h = header.trim().toLowerCase();
  if (h.startsWith("[")) {
    const end = h.indexOf("]");
    return { name: h.slice(0, end + 1), port: h.slice(end + 2) };
  }
  const i = h.indexOf(":");
  return i < 0 ? { name: h, port: "" } : { name: h.slice(0, i), port: h.slice(i + 1) };
}

/** The names a Host header may carry. */
export function allowedNames(o: Pick<GuardOptions, "listenHost" | "allowedHosts">): Set<string> {
  return new Set([...ALWAYS, normalHost(o.listenHost), ...o.allowedHosts.map(normalHost)]);
}

/** A request refused by the guard. */
export class GuardError extends AmocError {}

/** Builds the check; it throws GuardError (421 or 403) or returns. */
export function requestGuard(
  o: GuardOptions,
): (req: { method: string; headers: Record<string, string | string[] | undefined> }) => void {
  const names = allowedNames(o);
  const list = [...names].join(", ");
  return (req) => {
    const host = typeof req.headers.host === "string" ? req.headers.host : "";
    const { name } = splitHost(host);
    if (!names.has(normalHost(name))) {
      throw new GuardError(
        "API_HOST_REFUSED",
        `this node does not answer to the name '${name || "(no Host header)"}': a request must name it in its Host header (${list}); add the name to AMOC_API_ALLOWED_HOSTS if it is really this node`,
        "connect by one of the names above, or set AMOC_API_ALLOWED_HOSTS=name1,name2 on the node (a page on another site pointing its own name at this node is refused on purpose: DNS rebinding)",
      );
    }
    if (!STATE_CHANGING.has(req.method.toUpperCase())) return;
    const site = req.headers["sec-fetch-site"];
    if (typeof site === "string" && site !== "same-origin" && site !== "none") {
      throw new GuardError(
        "API_ORIGIN_REFUSED",
        `a ${req.method} sent by another site (Sec-Fetch-Site: ${site}) is refused: only this node's own dashboard and non-browser clients may change it`,
        "use the dashboard served by this node, bin/amoc, or curl",
      );
    }
    const origin = req.headers.origin;
    if (typeof origin === "string" && !ownOrigin(origin, names, o)) {
      throw new GuardError(
        "API_ORIGIN_REFUSED",
        `a ${req.method} from the origin '${origin}' is refused: only this node's own origin may change it`,
        "use the dashboard served by this node (its own origin), bin/amoc, or curl; add the node's name to AMOC_API_ALLOWED_HOSTS if you open the dashboard under another name",
      );
    }
  };
}

/** Whether `origin` is scheme://allowed-name:listen-port of this node. */
function ownOrigin(origin: string, names: Set<string>, o: GuardOptions): boolean {
  let u: URL;
  try {
    u = new URL(origin); // "null" (a sandboxed frame, file://) does not parse: refused
  } catch {
    return false;
  }
  if (u.protocol !== (o.tls ? "https:" : "http:")) return false;
  if (!names.has(normalHost(u.hostname))) return false;
  const port = o.port();
  return port === undefined || Number(u.port || (o.tls ? 443 : 80)) === port;
}
