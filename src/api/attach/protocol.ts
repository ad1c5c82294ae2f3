/**
 * What travels over a detached node's attach socket. A client opens with one JSON line (a `SocketRequest`); for
 * `attach` the rest of the connection is the REPL's raw byte stream (keys in, screen out), for the others the node
 * answers one JSON line and closes.
 */
import type { Socket } from "node:net";
import { PassThrough } from "node:stream";

/** The first line a client sends. */
export type SocketRequest =
  | { op: "ping" }
  | { op: "status" }
  | { op: "eval"; expr: string }
  /** `terminal`: the client's stdin and stdout are a TTY (prompt, line editing, colors, completion). */
  | { op: "attach"; terminal: boolean; columns?: number; rows?: number };

/** `ping`: who answers. */
export interface PingReply {
  ok: true;
  name: string;
  pid: number;
  role: "console" | "worker";
  log: string;
}

/** `status`: the node and its run. */
export interface StatusReply {
  ok: true;
  name: string;
  pid: number;
  role: "console" | "worker";
  log: string;
  uptime_s: number;
  /** Controller state: idle, running, terminating, finished, error. */
  state: string;
  scenario: string | null;
  users: Record<string, number>;
  /** The Node API's full status (per node). */
  status: unknown;
}

/** `eval`: the printed result, its value as JSON when it has one, and the exit code (0 success). */
export interface EvalReply {
  ok: boolean;
  text: string;
  value?: unknown;
  exit: number;
}

/** A request the node could not serve. */
export interface ErrorReply {
  ok: false;
  error: string;
  exit: number;
}

/** Longest first line accepted (an `eval` expression included). */
export const MAX_REQUEST_BYTES = 1 << 20;

/** Parses and checks a first line; throws on anything malformed. */
export function parseRequest(line: string): SocketRequest {
  const r = JSON.parse(line) as Partial<SocketRequest> & Record<string, unknown>;
  switch (r.op) {
    case "ping":
    case "status":
      return { op: r.op };
    case "eval":
      if (typeof r.expr !== "string") throw new Error("eval needs an expression");
      return { op: "eval", expr: r.expr };
    case "attach": {
      const req: SocketRequest = { op: "attach", terminal: r.terminal === true };
      if (typeof r.columns === "number" && r.columns > 0) req.columns = r.columns;
      if (typeof r.rows === "number" && r.rows > 0) req.rows = r.rows;
      return req;
    }
    case undefined:
    default:
      throw new Error(`unknown request ${JSON.stringify(r.op)}`);
  }
}

/** The first line of a connection and a stream of every byte after it (ends when the client half-closes). */
export interface FirstLine {
  line: string;
  rest: PassThrough;
}

/**
 * Reads the first line of `socket`; every later byte goes to `rest`, which ends when the socket's readable side
 * ends, so the REPL that takes over sees the keys typed after the request and the end of a piped script. The
 * listeners are in place from the start: an end that arrives with the first line is never missed.
 */
export function readFirstLine(socket: Socket, maxBytes = MAX_REQUEST_BYTES): Promise<FirstLine> {
  return new Promise((resolve, reject) => {
    const rest = new PassThrough();
    let buf: Buffer | null = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      if (buf === null) return void rest.write(chunk);
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(10);
      if (nl >= 0) {
        const line = buf.subarray(0, nl).toString("utf8");
        const after = buf.subarray(nl + 1);
        buf = null;
        if (after.length) rest.write(after);
        resolve({ line, rest });
      } else if (buf.length > maxBytes) {
        buf = null;
        reject(new Error(`request longer than ${maxBytes} bytes`));
        socket.destroy();
      }
    });
    socket.on("end", () => {
      if (buf === null) return void rest.end();
      if (buf.length) resolve({ line: buf.toString("utf8"), rest });
      else reject(new Error("connection closed before a request"));
      buf = null;
      rest.end();
    });
    socket.on("error", (e) => {
      if (buf !== null) reject(e);
      buf = null;
      rest.end();
    });
  });
}
