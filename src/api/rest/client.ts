/**
 * A small client of the REST API for `bin/amoc upload` and `bin/amoc status --url`: bearer token, JSON answers,
 * and the server's error (code, message, hint, problems) turned back into an AmocError.
 */
import { AmocError, ERROR_STATUS, errorMessage, type ErrorCode } from "../../errors.js";
import type { ApiStatus } from "../../node/node-api.js";
import type { UploadResult } from "../../node/scenarios/types.js";

/** An error answer of the REST API, or the server not answering. */
export class RemoteError extends AmocError {
  readonly status: number;
  readonly problems: Array<{ file?: string; line?: number; column?: number; path?: string; message: string }>;
  constructor(code: ErrorCode, status: number, message: string, hint: string, problems: RemoteError["problems"] = []) {
    super(code, message, hint);
    this.status = status;
    this.problems = problems;
  }
}

/** The URL of a node's REST API from `--url`, else AMOC_API_PORT on loopback. */
export function defaultUrl(env: NodeJS.ProcessEnv = process.env): string {
  return `http://127.0.0.1:${env.AMOC_API_PORT || env.AMOC_api_port || 4000}`;
}

/** One request; the parsed JSON answer, or RemoteError. */
export async function restRequest<T>(
  baseUrl: string,
  path: string,
  o: { method?: string; token?: string; body?: string; contentType?: string; timeoutMs?: number } = {},
): Promise<T> {
  const headers: Record<string, string> = {};
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  // JSON routes parse only application/json; the upload sends its TypeScript as text/plain
  if (o.body !== undefined) headers["content-type"] = o.contentType ?? "application/json";
  let res: Response;
  try {
    res = await fetch(new URL(path, baseUrl), {
      method: o.method ?? "GET",
      headers,
      body: o.body,
      signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? errorMessage(e);
    throw new RemoteError(
      "CLUSTER_UNAVAILABLE",
      0,
      `cannot reach the REST API at ${baseUrl}: ${cause}`,
      "start the node with AMOC_API_PORT set, or pass --url http://host:port",
    );
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = { message: text };
  }
  if (res.ok) return body as T;
  const b = body as { error?: string; message?: string; hint?: string; problems?: RemoteError["problems"] };
  const known = typeof b.error === "string" && b.error in ERROR_STATUS ? (b.error as ErrorCode) : undefined;
  const auth = res.status === 401 || res.status === 403;
  const code: ErrorCode = known ?? (auth ? "CONFIG_INVALID" : res.status >= 500 ? "CLUSTER_NODE_FAILED" : "USAGE");
  const hint = auth
    ? "on the node's machine bin/amoc finds the token itself (<data dir>/api.json); elsewhere pass --token-file FILE or set AMOC_API_TOKEN"
    : (b.hint ?? "");
  throw new RemoteError(code, res.status, `${res.status} ${b.message ?? res.statusText}`, hint, b.problems ?? []);
}

/** `GET /status` of a remote node or cluster. */
export function remoteStatus(url: string, token?: string): Promise<ApiStatus> {
  return restRequest<ApiStatus>(url, "/status", { token });
}

/** `PUT /scenarios/upload?name=` with the source as the raw body. */
export function remoteUpload(url: string, name: string, source: string, token?: string): Promise<UploadResult> {
  return restRequest<UploadResult>(url, `/scenarios/upload?name=${encodeURIComponent(name)}`, {
    method: "PUT",
    body: source,
    contentType: "text/plain; charset=utf-8",
    token,
  });
}
