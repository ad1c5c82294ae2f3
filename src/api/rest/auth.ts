/**
 * REST authentication: off loopback the server needs `api_token`, and every request but the open ones (health,
 * the OpenAPI document, Swagger UI) then needs `Authorization: Bearer <token>`, compared in constant time.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import { ConfigError } from "../../errors.js";

/** Whether a listen address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1") return true;
  return isIP(h) === 4 && h.startsWith("127.");
}

/** Throws ConfigError when the server would listen off loopback without a token. */
export function checkAuthSettings(s: { api_host: string; api_token: string }): void {
  if (!isLoopback(s.api_host) && s.api_token === "") {
    throw new ConfigError([
      { key: "api_token", source: "AMOC_API_TOKEN", message: `the REST API listens on ${s.api_host}, which is not loopback, and has no token: set AMOC_API_TOKEN (e.g. $(openssl rand -hex 24)) or AMOC_API_HOST=127.0.0.1` },
    ]);
  }
}

/** Paths served without a token: liveness, the API's own description, the dashboard page and its assets (whole path segments). */
export function isOpenPath(url: string): boolean {
  const path = url.split("?")[0] as string;
  return path === "/" || path.startsWith("/web/") || path === "/health" || path === "/openapi.json" || path === "/api-docs" || path.startsWith("/api-docs/");
}

/** The result of checking a request's credentials. */
export type AuthResult = { ok: true } | { ok: false; status: 401 | 403; message: string };

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Checks an Authorization header against the token (constant time: both sides hashed to equal length). */
export function checkBearer(header: string | undefined, token: string): AuthResult {
  if (!header) return { ok: false, status: 401, message: "this API needs a token: send Authorization: Bearer <token>" };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return { ok: false, status: 401, message: "the Authorization header must be 'Bearer <token>'" };
  if (!timingSafeEqual(digest(m[1] as string), digest(token))) return { ok: false, status: 403, message: "the token is wrong" };
  return { ok: true };
}
