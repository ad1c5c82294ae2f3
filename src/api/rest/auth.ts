/**
 * REST authentication. A node always wants a bearer token unless the user turned auth off explicitly
 * (api_auth=off, loopback only): with no api_token it generates one at start (src/node/api-token.ts). Every request
 * but the open ones (health, the OpenAPI document, Swagger UI, the dashboard page and its assets) then needs
 * `Authorization: Bearer <token>`, compared in constant time. The token is never read from a query string: the
 * page at `/?token=` is open anyway and only its own script reads the token from the address bar.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { ConfigError } from "../../errors.js";

/** Whether a listen address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

/** The auth settings of a node. */
export interface AuthSettings {
  api_host: string;
  api_token: string;
  api_auth?: "token" | "off";
}

/** Throws ConfigError when auth is off on an address other machines can reach. */
export function checkAuthSettings(s: AuthSettings): void {
  if (s.api_auth === "off" && !isLoopback(s.api_host)) {
    throw new ConfigError([
      {
        key: "api_auth",
        source: "AMOC_API_AUTH",
        message: `AMOC_API_AUTH=off turns the REST API's token off, which is allowed only on loopback, and it listens on ${s.api_host}: unset AMOC_API_AUTH (the node then generates a token) or set AMOC_API_HOST=127.0.0.1`,
      },
    ]);
  }
  if (s.api_auth === "off" && s.api_token !== "") {
    throw new ConfigError([
      {
        key: "api_auth",
        source: "AMOC_API_AUTH",
        message: "AMOC_API_AUTH=off turns the token off, but AMOC_API_TOKEN is set: unset one of them",
      },
    ]);
  }
}

/** Paths served without a token: liveness, the API's own description, the dashboard page and its assets (whole path segments). */
export function isOpenPath(url: string): boolean {
  const path = url.split("?")[0] as string;
  return (
    path === "/" ||
    path === "/favicon.ico" ||
    path.startsWith("/web/") ||
    path === "/health" ||
    path === "/openapi.json" ||
    path === "/api-docs" ||
    path.startsWith("/api-docs/")
  );
}

/** The result of checking a request's credentials. */
export type AuthResult = { ok: true } | { ok: false; status: 401 | 403; message: string };

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Checks an Authorization header against the token (constant time: both sides hashed to equal length). */
export function checkBearer(header: string | undefined, token: string): AuthResult {
  if (!header) return { ok: false, status: 401, message: "this API needs a token: send Authorization: Bearer <token>" };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return { ok: false, status: 401, message: "the Authorization header must be 'Bearer <token>'" };
  if (!timingSafeEqual(digest(m[1] as string), digest(token)))
    return { ok: false, status: 403, message: "the token is wrong" };
  return { ok: true };
}
