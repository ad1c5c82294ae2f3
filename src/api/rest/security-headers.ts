/**
 * Headers on every response: no framing (clickjacking), no MIME sniffing, no Referer (the first page load's URL
 * carries the token), and a Content-Security-Policy that lets the dashboard run only its own bundled script and
 * styles. Swagger UI needs data: images too; a run report (self-contained, inline script) gets a
 * policy of its own that also sandboxes it into an opaque origin, so its script can never call the API.
 */
import type { ServerResponse } from "node:http";

const BASE = "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'";

/**
 * The dashboard's and the API's policy (the report frame is served from this origin). Scripts only from this
 * origin; inline styles are allowed because CodeMirror injects its theme as a <style> element (styles cannot run
 * code, so this keeps the part that matters: no inline or foreign script).
 */
export const CSP = `${BASE}; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-src 'self'`;
/** Swagger UI: React sets inline styles, icons are data: URLs. */
export const CSP_DOCS = `${BASE}; img-src 'self' data:; style-src 'self' 'unsafe-inline'`;
/** A run report: its own inline script and styles only, sandboxed, framed only by the dashboard. */
export const CSP_REPORT =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox allow-scripts";

/** Sets the headers on the raw response (hijacked streams and early refusals get them too). */
export function setSecurityHeaders(res: ServerResponse, path: string): void {
  res.setHeader("content-security-policy", path === "/api-docs" || path.startsWith("/api-docs/") ? CSP_DOCS : CSP);
  res.setHeader("x-frame-options", "DENY");
  res.setHeader("x-content-type-options", "nosniff");
  res.setHeader("referrer-policy", "no-referrer");
  res.setHeader("cross-origin-opener-policy", "same-origin");
}
