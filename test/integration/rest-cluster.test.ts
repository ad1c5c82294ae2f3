/**
 * The REST API on a real 3-node NATS cluster with real `bin/amoc worker` processes: a scenario uploaded on one
 * node runs on every worker, a late worker loads the run's version, a re-upload during a run leaves the run on its
 * version and the next start takes the newest; plus auth, limits and the CLI (`bin/amoc upload`).
 */
import type { ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, NatsCluster } from "../helpers/nats-cluster.js";
import { nodeToken } from "../helpers/api-token.js";
import { amoc, clusterEnv, spawnWorker } from "../helpers/proc.js";
import { untilAsync as until } from "../helpers/wait.js";

const CLUSTER = `rest${process.pid}`;
// inside the project: uploaded files resolve `amoc-ts` from their data directories
const RUN_DIR = resolve(`.run/test/rest-int-${process.pid}`);
const OUT = join(RUN_DIR, "marks");
let nats: NatsCluster;
let port: number;
let url: string;
const procs = new Map<string, ChildProcess>();

function startWorker(name: string, extra: NodeJS.ProcessEnv = {}): ChildProcess {
  const p = spawnWorker(name, clusterEnv(nats, CLUSTER, name, { AMOC_RUN_DIR: RUN_DIR, ...extra }));
  procs.set(name, p);
  return p;
}

/** A scenario whose `init` leaves a file `<node>.<mark>` in out_dir, and whose users hold until removed. */
const scenario = (mark: string) => `import { mkdirSync, writeFileSync } from "node:fs";
import { defineVariables, type InitContext, type UserContext } from "amoc-ts";

export const variables = defineVariables({
  out_dir: { default: "", doc: "where init records the version that ran" },
  note: { default: "a", doc: "an updatable variable", updatable: true },
});

export async function init(ctx: InitContext<{ out_dir: string }>): Promise<void> {
  if (!ctx.vars.out_dir) return;
  mkdirSync(ctx.vars.out_dir, { recursive: true });
  writeFileSync(\`\${ctx.vars.out_dir}/\${ctx.nodeName}.${mark}\`, "");
}

export async function start(_id: number, _state: unknown, ctx: UserContext): Promise<void> {
  await ctx.stopped();
}
`;

let token = "";

/**
 * The status a declared `bytes`-long upload gets, read before any of the body is sent: the server answers 413 from
 * the content-length alone. (Sending the body with fetch races the server's early answer and close: EPIPE.)
 */
async function statusOfLargeUpload(path: string, bytes: number): Promise<number> {
  const { port } = new URL(url);
  const sock = connect(Number(port), "127.0.0.1");
  let got = "";
  try {
    return await new Promise<number>((resolve, reject) => {
      sock.on("error", reject);
      sock.on("data", (d: Buffer) => {
        got += d.toString();
        const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
        if (m) resolve(Number(m[1]));
      });
      sock.write(
        `PUT ${path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: Bearer ${token}\r\n` +
          `content-length: ${bytes}\r\n\r\n`,
      );
    });
  } finally {
    sock.destroy();
  }
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, any> }> {
  const init: RequestInit = { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    if (typeof body !== "string") (init.headers as Record<string, string>)["content-type"] = "application/json";
  }
  const r = await fetch(url + path, init);
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : {} };
}

const marks = (mark: string) =>
  existsSync(OUT)
    ? readdirSync(OUT)
        .filter((f) => f.endsWith(`.${mark}`))
        .map((f) => f.split(".")[0])
        .sort()
    : [];
const running = async () => (await call("GET", "/status")).json.users?.running as number;

beforeAll(async () => {
  mkdirSync(RUN_DIR, { recursive: true });
  nats = await NatsCluster.start(3);
  port = await freePort();
  url = `http://127.0.0.1:${port}`;
  startWorker("w1");
  startWorker("w2");
  startWorker("w3", { AMOC_API_PORT: String(port) });
  await until(async () => (await call("GET", "/health")).status === 200, 60_000, "the REST API of w3");
  token = nodeToken(RUN_DIR, port);
  await until(
    async () =>
      ((await call("GET", "/nodes")).json.details as Array<{ role: string }>).filter((n) => n.role === "worker")
        .length === 3,
    30_000,
    "3 workers",
  );
}, 120_000);

afterAll(async () => {
  await call("PATCH", "/execution/stop", {}).catch(() => undefined);
  for (const p of procs.values()) p.kill("SIGKILL");
  await nats?.stop();
  rmSync(RUN_DIR, { recursive: true, force: true });
});

describe("REST on a 3-worker NATS cluster", () => {
  let v1 = "";

  it("bin/amoc upload sends a scenario to one node's REST API and prints its version", async () => {
    const file = join(RUN_DIR, "up_hold.ts");
    writeFileSync(file, scenario("v1"));
    const r = await amoc(["upload", file, "--url", url], { env: { AMOC_RUN_DIR: RUN_DIR } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    v1 = /version ([0-9a-f]{16})/.exec(r.stdout)![1]!;
    const list = await call("GET", "/scenarios");
    expect(list.json.details).toContainEqual({ name: "up_hold", source: "uploaded", version: v1 });
    expect((await call("GET", "/scenarios/info/up_hold")).json).toMatchObject({
      version: v1,
      parameters: { out_dir: { default_value: "" } },
    });
    expect((await call("GET", "/scenarios/defaults/up_hold")).json).toEqual({ settings: { out_dir: "", note: "a" } });
  });

  it("bin/amoc upload of a broken file prints its problems against the file and exits 2", async () => {
    const file = join(RUN_DIR, "broken.ts");
    writeFileSync(file, "export async function start() {\n  let x = ;\n}\n");
    const r = await amoc(["upload", file, "--url", url], { env: { AMOC_RUN_DIR: RUN_DIR } });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:2:11:`);
  });

  it("PATCH /execution/start with the uploaded scenario runs it on all three workers", async () => {
    const r = await call("PATCH", "/execution/start", {
      scenario: "up_hold",
      users: 30,
      settings: { interarrival: 0, out_dir: OUT },
      comment: "rest test",
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ scenario: "up_hold", version: v1, users: 30 });
    await until(async () => (await running()) === 30, 20_000, "30 running");
    expect(marks("v1")).toEqual(["w1", "w2", "w3"]);
    const st = (await call("GET", "/status")).json;
    for (const w of ["w1", "w2", "w3"]) expect(st.nodes[w].result.users.running).toBe(10);
    expect(st.run).toMatchObject({ scenario: "up_hold", version: v1 });
    expect((await call("GET", "/status/w2")).json).toMatchObject({ amoc_status: "up", node: "w2" });
    expect((await call("GET", "/status/nope")).status).toBe(404);
  });

  it("a second start while running is 409; bad bodies are 400", async () => {
    expect((await call("PATCH", "/execution/start", { scenario: "up_hold", users: 1 })).status).toBe(409);
    const bad = await call("PATCH", "/execution/add_users", { users: -1, bogus: true });
    expect(bad.status).toBe(400);
    expect(bad.json.problems).toHaveLength(2);
    expect((await call("PATCH", "/execution/add_users", { users: 1, nodes: ["nope"] })).status).toBe(404);
  });

  it("a re-upload during the run makes a new version; the run keeps its own, and a worker started later loads it", async () => {
    const r = await call("PUT", "/scenarios/upload?name=up_hold", scenario("v2"));
    expect(r.status).toBe(200);
    const v2 = r.json.version as string;
    expect(v2).not.toBe(v1);
    expect((await call("GET", "/scenarios")).json.details).toContainEqual({
      name: "up_hold",
      source: "uploaded",
      version: v2,
    });
    startWorker("w4");
    await until(async () => marks("v1").includes("w4"), 30_000, "w4 loading the run's version");
    expect(marks("v2")).toEqual([]);
    expect((await call("PATCH", "/execution/add_users", { users: 8 })).status).toBe(200);
    await until(async () => (await running()) === 38, 20_000, "38 running");
    expect((await call("GET", "/status")).json.nodes.w4.result.users.running).toBe(2);
  });

  it("add, remove, update_settings and stop answer per node; the next start takes the newest version on all four", async () => {
    const rm = await call("PATCH", "/execution/remove_users", { users: 4, force: true });
    expect(rm.status).toBe(200);
    await until(async () => (await running()) === 34, 20_000, "34 running");
    const ro = await call("PATCH", "/execution/update_settings", { settings: { out_dir: "/elsewhere" } });
    expect(ro.status).toBe(409);
    expect(ro.json.error).toBe("VARIABLE_READ_ONLY");
    expect((await call("PATCH", "/execution/update_settings", { settings: { nope: 1 } })).status).toBe(400);
    const upd = await call("PATCH", "/execution/update_settings", { settings: { note: "b" } });
    expect(upd.status).toBe(200);
    expect(Object.keys(upd.json.nodes).sort()).toEqual(["w1", "w2", "w3", "w4"]);
    const stop = await call("PATCH", "/execution/stop");
    expect(stop.status).toBe(200);
    expect(Object.keys(stop.json.nodes).sort()).toEqual(["w1", "w2", "w3", "w4"]);
    // the run ended through the master's run service: its end, with every node that took part, is in the reply
    expect(stop.json.run).toMatchObject({ run_id: expect.any(String), verdict: expect.any(String) });
    expect(Object.keys(stop.json.run.summary.nodes ?? {}).sort()).toEqual(["w1", "w2", "w3", "w4"]);
    const listed = (await call("GET", "/dashboard/runs")).json.runs as Array<{ id: string; scenario: string }>;
    expect(listed[0]).toMatchObject({ id: stop.json.run.run_id, scenario: "up_hold" });
    const again = await call("PATCH", "/execution/start", {
      scenario: "up_hold",
      users: 4,
      settings: { interarrival: 0, out_dir: OUT },
    });
    expect(again.status).toBe(200);
    await until(async () => marks("v2").length === 4, 20_000, "four nodes on v2");
    expect(marks("v2")).toEqual(["w1", "w2", "w3", "w4"]);
    expect((await call("PATCH", "/execution/stop", {})).status).toBe(200);
  });

  it("a 2 MB body is 413 and a name with ../ is 400", async () => {
    expect(await statusOfLargeUpload("/scenarios/upload?name=big", 2 * 1024 * 1024)).toBe(413);
    const r = await call("PUT", `/scenarios/upload?name=${encodeURIComponent("../evil")}`, scenario("x"));
    expect(r.status).toBe(400);
    expect(r.json.message).toMatch(/querystring\/name/);
  });

  it("the OpenAPI document and Swagger UI are served", async () => {
    expect((await call("GET", "/openapi.json")).json.openapi).toMatch(/^3\./);
    const ui = await fetch(`${url}/api-docs/`);
    expect(ui.status).toBe(200);
  });
});

describe("REST auth on real servers", () => {
  it("a worker refuses to serve REST off loopback with auth turned off", async () => {
    const p = startWorker("wx", {
      AMOC_API_PORT: String(await freePort()),
      AMOC_API_HOST: "0.0.0.0",
      AMOC_API_AUTH: "off",
    });
    let stderr = "";
    p.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => p.once("exit", (c) => r(c)));
    expect(code).toBe(2);
    expect(stderr).toMatch(/AMOC_API_AUTH/);
  });

  it("with a token, requests need it (401 without, 403 wrong); bin/amoc upload finds it on this machine, and --token-file passes from elsewhere", async () => {
    const p2 = await freePort();
    startWorker("wt", { AMOC_API_PORT: String(p2), AMOC_API_TOKEN: "s3cret-token-0123456" });
    const u = `http://127.0.0.1:${p2}`;
    await until(async () => (await fetch(`${u}/health`)).ok, 60_000, "the REST API of wt");
    expect((await fetch(`${u}/status`)).status).toBe(401);
    expect((await fetch(`${u}/status`, { headers: { authorization: "Bearer nope" } })).status).toBe(403);
    expect((await fetch(`${u}/nodes`, { headers: { authorization: "Bearer s3cret-token-0123456" } })).status).toBe(200);
    const file = join(RUN_DIR, "tok_up.ts");
    writeFileSync(file, scenario("t"));
    // another run dir: a user who cannot read the node's runtime files
    const elsewhere = { AMOC_RUN_DIR: join(RUN_DIR, "elsewhere") };
    const denied = await amoc(["upload", file, "--url", u], { env: elsewhere });
    expect(denied.code, denied.stderr).toBe(2);
    expect(denied.stderr).toMatch(/401.*\n.*--token-file/);
    const tokenFile = join(RUN_DIR, "token");
    writeFileSync(tokenFile, "s3cret-token-0123456\n", { mode: 0o600 });
    const ok = await amoc(["upload", file, "--url", u, "--token-file", tokenFile], { env: elsewhere });
    expect(ok.code, ok.stderr).toBe(0);
    const local = await amoc(["upload", file, "--url", u], { env: { AMOC_RUN_DIR: RUN_DIR } });
    expect(local.code, local.stderr).toBe(0);
    procs.get("wt")!.kill("SIGTERM");
  });
});
