/**
 * The attach socket of a detached node: a unix socket (mode 0600, in the 0700 data directory; never TCP). Each
 * connection opens with one request line: `attach` runs the console's REPL on the connection and detaching leaves
 * the node and its run alone; `ping`, `status` and `eval` answer one JSON line. Any number of connections at once.
 */
import { chmodSync, rmSync } from "node:fs";
import net from "node:net";
import type { Logger } from "../../log.js";
import { runConsole, type ConsoleApis } from "../console/console.js";
import { evaluateOnce } from "./evaluate.js";
import {
  parseRequest,
  readFirstLine,
  type ErrorReply,
  type PingReply,
  type SocketRequest,
  type StatusReply,
} from "./protocol.js";

/** Who this node is, as ping and status report it. */
export interface NodeIdentity {
  name: string;
  pid: number;
  role: "console" | "worker";
  log: string;
  startedAtMs: number;
}

/** A listening attach socket. */
export interface AttachServer {
  /** Connections open now (attached consoles and pending requests). */
  readonly connections: number;
  /** Stops accepting, tells attached consoles the node is stopping, closes them and removes the socket file. */
  close(reason?: string): Promise<void>;
}

/** Listens on `socketPath` (an old file there is removed first: the caller owns the pid file). */
export async function listenAttach(
  socketPath: string,
  apis: ConsoleApis,
  who: NodeIdentity,
  log: Logger,
): Promise<AttachServer> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", (e) => log.debug({ msg: "attach_socket_error", err: e.message }));
    serve(socket, apis, who, log).catch((e: unknown) => {
      log.warn({ msg: "attach_request_failed", err: (e as Error).message });
      socket.destroy();
    });
  });
  rmSync(socketPath, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ path: socketPath, readableAll: false, writableAll: false }, () => {
      server.off("error", reject);
      resolve();
    });
  });
  // the directory is already 0700; the socket itself is the user's alone too
  chmodSync(socketPath, 0o600);
  return {
    get connections() {
      return sockets.size;
    },
    async close(reason = "stopping") {
      const closed = new Promise<void>((r) => server.close(() => r()));
      for (const s of sockets) {
        if (!s.writableEnded) s.end(`\namoc: node ${who.name} is ${reason}\n`);
        // a console still awaiting a command gets a moment, then is cut
        setTimeout(() => s.destroy(), 500).unref();
      }
      await closed;
      rmSync(socketPath, { force: true });
    },
  };
}

async function serve(socket: net.Socket, apis: ConsoleApis, who: NodeIdentity, log: Logger): Promise<void> {
  const { line, rest } = await readFirstLine(socket);
  let req: SocketRequest;
  try {
    req = parseRequest(line);
  } catch (e) {
    return reply(socket, { ok: false, error: `bad request: ${(e as Error).message}`, exit: 2 } satisfies ErrorReply);
  }
  switch (req.op) {
    case "ping":
      return reply(socket, {
        ok: true,
        name: who.name,
        pid: who.pid,
        role: who.role,
        log: who.log,
      } satisfies PingReply);
    case "status":
      return reply(socket, await statusReply(apis, who));
    case "eval":
      log.info({ msg: "attach_eval", expr: req.expr.slice(0, 200) });
      return reply(socket, await evaluateOnce(req.expr, apis));
    case "attach": {
      log.info({ msg: "console_attached", terminal: req.terminal });
      // readline lays out the line by the client's width
      Object.assign(socket, { columns: req.columns ?? 80, rows: req.rows ?? 24, isTTY: req.terminal });
      await runConsole(apis, { input: rest, output: socket, terminal: req.terminal }, { onExit: "detach" });
      log.info({ msg: "console_detached" });
      if (!socket.writableEnded) socket.end();
      return;
    }
  }
}

async function statusReply(apis: ConsoleApis, who: NodeIdentity): Promise<StatusReply> {
  const s = await apis.local.nodeStatus(apis.local.nodeName);
  return {
    ok: true,
    name: who.name,
    pid: who.pid,
    role: who.role,
    log: who.log,
    uptime_s: Math.round((Date.now() - who.startedAtMs) / 1000),
    state: s.state,
    scenario: s.scenario,
    users: { ...s.users },
    status: s,
  };
}

function reply(socket: net.Socket, body: object): void {
  socket.end(JSON.stringify(body) + "\n");
}
