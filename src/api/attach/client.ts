/**
 * The client side of the attach socket: one-shot requests (ping, status, eval) and `attach`, which joins the
 * terminal to the node's REPL (raw keys out, screen in) until the node's console ends: Ctrl+D or `.exit` detaches,
 * and the node keeps running. With piped stdin the lines run one by one and attach exits after the last result.
 */
import net from "node:net";
import type { SocketRequest } from "./protocol.js";

/** The node could not be reached on its socket (not running, or stuck). */
export class SocketUnreachable extends Error {
  constructor(
    readonly socketPath: string,
    readonly errCode: string,
  ) {
    super(`cannot connect to ${socketPath}: ${errCode}`);
  }
}

function connect(socketPath: string, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path: socketPath, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SocketUnreachable(socketPath, "ETIMEDOUT"));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.off("error", onError);
      resolve(socket);
    });
    const onError = (e: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      reject(new SocketUnreachable(socketPath, e.code ?? e.message));
    };
    socket.once("error", onError);
  });
}

/** Sends one request and returns the node's one-line JSON reply; every step is bounded by `timeoutMs`. */
export async function request<T>(socketPath: string, req: SocketRequest, timeoutMs = 10_000): Promise<T> {
  const socket = await connect(socketPath, timeoutMs);
  return new Promise<T>((resolve, reject) => {
    let buf = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SocketUnreachable(socketPath, `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (buf += d));
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(new SocketUnreachable(socketPath, (e as NodeJS.ErrnoException).code ?? e.message));
    });
    socket.on("end", () => {
      clearTimeout(timer);
      socket.end();
      try {
        resolve(JSON.parse(buf.trim().split("\n")[0] ?? "") as T);
      } catch {
        reject(new SocketUnreachable(socketPath, `malformed answer ${JSON.stringify(buf.slice(0, 200))}`));
      }
    });
    socket.write(JSON.stringify(req) + "\n");
  });
}

/** The terminal (or pipes) an attach runs on. */
export interface AttachIo {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
}

/** Attaches the terminal to the node's console; resolves when the node's console ends (detach or node stopping). */
export async function attach(socketPath: string, io: AttachIo, connectTimeoutMs = 10_000): Promise<void> {
  const socket = await connect(socketPath, connectTimeoutMs);
  const terminal = io.stdin.isTTY === true && io.stdout.isTTY === true;
  const req: SocketRequest = { op: "attach", terminal };
  if (terminal) {
    req.columns = io.stdout.columns;
    req.rows = io.stdout.rows;
  }
  socket.write(JSON.stringify(req) + "\n");
  if (terminal) io.stdin.setRawMode(true);
  // piped stdin: its end half-closes the socket, the node runs the last lines, prints, then closes its side
  io.stdin.pipe(socket, { end: !terminal });
  socket.pipe(io.stdout, { end: false });
  await new Promise<void>((resolve) => {
    socket.once("end", () => {
      // the node's console ended (detach, or the node stops): stop sending keys and close our side too
      io.stdin.unpipe(socket);
      socket.end();
    });
    socket.once("close", () => resolve());
    socket.once("error", () => resolve());
  });
  io.stdin.unpipe(socket);
  if (terminal) io.stdin.setRawMode(false);
  io.stdin.pause();
}
