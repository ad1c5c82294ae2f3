import { mkdtempSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { attach, request, SocketUnreachable } from "../../src/api/attach/client.js";
import {
  parseRequest,
  readFirstLine,
  type EvalReply,
  type PingReply,
  type StatusReply,
} from "../../src/api/attach/protocol.js";
import { listenAttach, type AttachServer } from "../../src/api/attach/server.js";
import { silentLogger } from "../../src/log.js";
import { PROJECT_ROOT } from "../../src/node/data-dir.js";
import { testController } from "../helpers/node.js";
import { testService } from "../helpers/node-service.js";

const SCENARIOS = join(PROJECT_ROOT, "scenarios");
let tmp: string;
let server: AttachServer | undefined;
let controller: ReturnType<typeof testController>["controller"];
let sock: string;
let cleanup: () => void = () => {};

beforeEach(async () => {
  tmp = mkdtempSync(join(tmpdir(), "amoc-attach-"));
  sock = join(tmp, "attach.sock");
  controller = testController({}, { scenariosDir: SCENARIOS }).controller;
  const svc = testService({ controller, scenariosDir: SCENARIOS });
  cleanup = svc.cleanup;
  const local = svc.api;
  server = await listenAttach(
    sock,
    { local },
    { name: "test", pid: process.pid, role: "console", log: "/dev/null", startedAtMs: Date.now() },
    silentLogger(),
  );
});

afterEach(async () => {
  await server?.close();
  await controller.shutdown();
  cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

/** A piped attach: `script` as stdin, everything the node printed as the result. */
async function pipedAttach(script: string): Promise<string> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  let out = "";
  stdout.on("data", (d: Buffer) => (out += d.toString()));
  stdin.end(script);
  await attach(sock, { stdin: stdin as unknown as NodeJS.ReadStream, stdout: stdout as unknown as NodeJS.WriteStream });
  return out;
}

describe("attach socket", () => {
  it("is a unix socket only the user may open (0600)", () => {
    expect(statSync(sock).mode & 0o777).toBe(0o600);
  });

  it("runs a piped script line by line and detaching leaves the run going", async () => {
    const out = await pipedAttach(
      "amoc_local.do('idle', 1, 5, {interarrival: 0})\nsleep(50)\n(await amoc_local.status_raw()).users.running\n",
    );
    expect(out).toMatch(/^\{ scenario: 'idle', from: 1, to: 5, users: 5, run_id: '[\w-]+' \}\n5\n$/);
    expect(controller.state).toBe("running");
    // the run is recorded: its verdict comes with the stop
    expect(await pipedAttach("amoc_local.stop()\n")).toMatch(/finished \(idle\)[\s\S]*recorded: passed/);
    expect(controller.state).toBe("finished");
  });

  it("offers the console's help, saying that Ctrl+D detaches", async () => {
    const out = await pipedAttach("help()\n");
    expect(out).toMatch(/amoc_local\.do\(scenario, from, to, settings\?\)/);
    expect(out).toMatch(/Ctrl\+D or \.exit detaches: the node and its run keep going/);
  });

  it("runs a terminal console (prompt, line editing) that Ctrl+D detaches from", async () => {
    const client = net.createConnection({ path: sock });
    let out = "";
    client.on("data", (d: Buffer) => (out += d.toString()));
    const closed = new Promise((r) => client.on("close", r));
    client.write(JSON.stringify({ op: "attach", terminal: true, columns: 100 }) + "\n");
    client.write("40+3\r");
    const end = Date.now() + 5000;
    while (!/43/.test(out) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    client.write("\x04");
    await closed;
    expect(out).toMatch(/amoc> /);
    expect(out).toMatch(/amoc-ts node test; help\(\) lists the commands/);
    expect(out).toMatch(/43/);
  });

  it("answers ping, status and eval with one JSON line", async () => {
    expect(await request<PingReply>(sock, { op: "ping" })).toMatchObject({
      ok: true,
      name: "test",
      pid: process.pid,
      role: "console",
    });
    const ok = await request<EvalReply>(sock, { op: "eval", expr: "amoc_local.do('idle', 1, 3, {interarrival: 0})" });
    expect(ok).toMatchObject({ ok: true, exit: 0, value: { scenario: "idle", users: 3 } });
    const st = await request<StatusReply>(sock, { op: "status" });
    expect(st).toMatchObject({ ok: true, state: "running", scenario: "idle" });
    const bad = await request<EvalReply>(sock, { op: "eval", expr: "amoc_local.add(0)" });
    expect(bad).toMatchObject({ ok: false, exit: 2, value: { code: "USAGE" } });
    expect(await request<EvalReply>(sock, { op: "eval", expr: "nope()" })).toMatchObject({
      ok: false,
      exit: 1,
      text: "error: nope is not defined",
    });
  });

  it("tells attached consoles the node is stopping and removes the socket on close", async () => {
    const client = net.createConnection({ path: sock });
    let out = "";
    client.on("data", (d: Buffer) => (out += d.toString()));
    const closed = new Promise((r) => client.on("close", r));
    client.write(JSON.stringify({ op: "attach", terminal: false }) + "\n");
    await new Promise((r) => setTimeout(r, 50));
    await server!.close();
    server = undefined;
    await closed;
    expect(out).toMatch(/node test is stopping/);
    await expect(request(sock, { op: "ping" })).rejects.toBeInstanceOf(SocketUnreachable);
  });
});

describe("attach protocol", () => {
  it("rejects unknown requests and keeps only known fields", () => {
    expect(() => parseRequest('{"op":"shutdown"}')).toThrow(/unknown request "shutdown"/);
    expect(parseRequest('{"op":"attach","terminal":true,"columns":120,"x":1}')).toEqual({
      op: "attach",
      terminal: true,
      columns: 120,
    });
  });

  it("hands every byte after the first line, and the end, to the console even when they arrive in one chunk", async () => {
    const path = join(tmp, "p.sock");
    const got = new Promise<{ line: string; rest: string }>((resolve) => {
      const srv = net
        .createServer({ allowHalfOpen: true }, async (s) => {
          const { line, rest } = await readFirstLine(s);
          let text = "";
          rest.on("data", (d: Buffer) => (text += d.toString()));
          rest.on("end", () => {
            s.end();
            srv.close();
            resolve({ line, rest: text });
          });
        })
        .listen(path);
    });
    await new Promise<void>((r) => {
      const c = net.createConnection({ path }, () => c.end('{"op":"attach"}\n1+1\n2+2\n'));
      c.on("close", () => r());
    });
    expect(await got).toEqual({ line: '{"op":"attach"}', rest: "1+1\n2+2\n" });
  });
});
