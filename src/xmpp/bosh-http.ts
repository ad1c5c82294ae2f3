/**
 * The HTTP side of BOSH: one POST per request over a keep-alive Agent shared by every user (see bosh-transport.ts),
 * module-level handlers that hand a request's outcome back to the transport that owns it, so a request
 * allocates no closure. What the requests carry is bosh-body.ts.
 */
import http from "node:http";
import https from "node:https";

/** Seconds the server may hold an empty request before answering it empty (Prosody's bosh_max_wait is 120). */
export const BOSH_WAIT_S = 60;
/** A request unanswered this long after the server's wait is lost. */
const REQUEST_GRACE_MS = 30_000;
/** The content type of every request (and the `content` of a session creation). */
export const HEADERS_TYPE = "text/xml; charset=utf-8";

/** Shared by every BOSH user (see bosh-transport.ts); sockets are not limited per Agent but per user. */
const agents = {
  "http:": new http.Agent({ keepAlive: true, scheduling: "lifo", maxFreeSockets: 4096 }),
  "https:": new https.Agent({ keepAlive: true, scheduling: "lifo", maxFreeSockets: 4096 }),
};

/** What a request reports to: its transport (`Meta.t`). */
export interface RequestOwner {
  responded(req: BoshRequest, status: number): void;
  requestFailed(req: BoshRequest, e: Error): void;
  written(): void;
}

/** The key of a request's (and its response's) Meta. */
export const META = Symbol("amoc.xmpp.bosh");
/** What a request carries: its owner (null: nobody waits for the answer), RID, body and the answer read so far. */
export interface Meta {
  t: RequestOwner | null;
  rid: number;
  body: string;
  text: string;
  /** Sent again once after a reset of a reused keep-alive socket (the server closed it meanwhile). */
  retried: boolean;
}
/** An HTTP request of a BOSH session. */
export type BoshRequest = http.ClientRequest & { [META]?: Meta };
type BoshResponse = http.IncomingMessage & { [META]?: Meta };

/** POSTs `body` to `service` (`meta` when it is sent again); the outcome goes to `meta.t`, once set. */
export function postBody(service: URL, tlsVerify: boolean, body: string, meta?: Meta): BoshRequest {
  const req: BoshRequest = (service.protocol === "https:" ? https : http).request({
    agent: agents[service.protocol as "http:" | "https:"],
    host: service.hostname.replace(/^\[|\]$/g, ""),
    port: service.port || undefined,
    path: service.pathname + service.search,
    method: "POST",
    rejectUnauthorized: tlsVerify,
    headers: { "Content-Type": HEADERS_TYPE, "Content-Length": Buffer.byteLength(body) },
  });
  const rid = Number(/rid='(\d+)'/.exec(body)?.[1]);
  req[META] = meta ?? { t: null, rid, body, text: "", retried: false };
  req.setTimeout(BOSH_WAIT_S * 1000 + REQUEST_GRACE_MS, onReqTimeout);
  req.on("response", onResponse);
  req.on("error", onReqError);
  req.end(body);
  return req;
}

/** Tells the owner once `req` is fully written (in the kernel's buffer). */
export function watchWritten(req: BoshRequest): void {
  req.once("finish", onReqWritten);
}

// Module-level handlers: `this` is the request (or response), whose META points at its transport.
function onResponse(this: BoshRequest, res: BoshResponse): void {
  res[META] = this[META];
  (res as { req?: BoshRequest }).req ??= this;
  res.setEncoding("utf8");
  res.on("data", onResData);
  res.on("end", onResEnd);
}
function onResData(this: BoshResponse, chunk: string): void {
  const m = this[META];
  if (m?.t) m.text += chunk;
}
function onResEnd(this: BoshResponse): void {
  const m = this[META];
  const req = (this as { req?: BoshRequest }).req;
  if (m?.t && req) m.t.responded(req, this.statusCode ?? 0);
}
function onReqError(this: BoshRequest, e: Error): void {
  this[META]?.t?.requestFailed(this, e);
}
function onReqWritten(this: BoshRequest): void {
  this[META]?.t?.written();
}
function onReqTimeout(this: BoshRequest): void {
  this.destroy(
    Object.assign(new Error(`BOSH request unanswered after ${BOSH_WAIT_S * 1000 + REQUEST_GRACE_MS} ms`), {
      code: "ETIMEDOUT",
    }),
  );
}
