/**
 * The REST API of a local `bin/amoc console` node (no cluster): the acceptance workflow with a real server and
 * curl-style requests, and one run pipeline: a run started over REST is judged by its thresholds at the stop, and
 * recorded where `bin/amoc runs` and the dashboard's History find it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/nats-cluster.js";
import { authedFetch, nodeToken } from "../helpers/api-token.js";
import { amoc, AMOC } from "../helpers/proc.js";

const RUN_DIR = resolve(`.run/test/rest-local-${process.pid}`);
let url: string;
let proc: ChildProcess;

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let token = "";
const api = authedFetch(() => token);

beforeAll(async () => {
  mkdirSync(RUN_DIR, { recursive: true });
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AMOC_API_PORT: String(port),
    AMOC_LOG_LEVEL: "warn",
    AMOC_RUN_DIR: RUN_DIR,
    AMOC_NODE_NAME: "local1",
  };
  delete env.AMOC_NATS_URL;
  // stdin stays open: the console lives until it ends
  proc = spawn(AMOC, ["console"], { env, stdio: ["pipe", "ignore", "pipe"] });
  proc.stderr?.on("data", (d: Buffer) => process.stderr.write(`[console] ${d.toString()}`));
  await until(async () => (await fetch(`${url}/health`)).ok, 60_000, "the console's REST API");
  // as the user would: the token the node generated and wrote to its runtime file
  token = nodeToken(RUN_DIR, port);
}, 90_000);

afterAll(async () => {
  proc?.stdin?.end();
  await new Promise<void>((r) => (proc.exitCode !== null ? r() : proc.once("exit", () => r())));
  rmSync(RUN_DIR, { recursive: true, force: true });
});

describe("REST on a local console node", () => {
  it("curl -T uploads scenarios/dummy.ts, a JSON start runs 300 users and status shows them started", async () => {
    // what `curl -T scenarios/dummy.ts` sends: the raw file, no content type
    const up = await api(`${url}/scenarios/upload?name=up_dummy`, {
      method: "PUT",
      body: readFileSync("scenarios/dummy.ts"),
    });
    const upBody = (await up.json()) as { version: string };
    expect(up.status, JSON.stringify(upBody)).toBe(200);
    expect(upBody.version).toMatch(/^[0-9a-f]{16}$/);
    const start = await api(`${url}/execution/start`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ scenario: "up_dummy", users: 300, settings: { interarrival: 0, repeat_num: 1 } }),
    });
    expect(start.status).toBe(200);
    await until(
      async () => ((await (await api(`${url}/status`)).json()) as { users: { started: number } }).users.started === 300,
      20_000,
      "300 started",
    );
    const st = (await (await api(`${url}/status`)).json()) as {
      mode: string;
      run: { scenario: string; version: string };
    };
    expect(st).toMatchObject({ mode: "local", run: { scenario: "up_dummy", version: upBody.version } });
    expect(((await (await api(`${url}/nodes`)).json()) as { nodes: object }).nodes).toEqual({ local1: "up" });
    const again = await api(`${url}/execution/start`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ scenario: "up_dummy", users: 1 }),
    });
    expect(again.status).toBe(409);
    expect((await api(`${url}/execution/stop`, { method: "PATCH" })).status).toBe(200);
  });

  it("a REST-started run with thresholds: the stop's reply carries its verdict, and bin/amoc runs and the dashboard's History list it", async () => {
    const json = { "content-type": "application/json" };
    const start = await api(`${url}/execution/start`, {
      method: "PATCH",
      headers: json,
      body: JSON.stringify({
        scenario: "dummy",
        users: 5,
        settings: { interarrival: 0, repeat_num: 1 },
        // one met, one breached: no user crashes, so 'crashed != 0' fails
        thresholds: ["users.crashed==0", "users.crashed!=0"],
      }),
    });
    const started = (await start.json()) as { run_id: string; scenario: string };
    expect(start.status, JSON.stringify(started)).toBe(200);
    expect(started).toMatchObject({ run_id: expect.any(String), scenario: "dummy" });
    await until(
      async () => ((await (await api(`${url}/status`)).json()) as { users: { started: number } }).users.started === 5,
      20_000,
      "5 started",
    );
    const stop = await api(`${url}/execution/stop`, { method: "PATCH" });
    const stopped = (await stop.json()) as {
      run: { run_id: string; verdict: string; exit_code: number; thresholds: Array<{ expr: string; ok: boolean }> };
    };
    expect(stop.status, JSON.stringify(stopped)).toBe(200);
    expect(stopped.run).toMatchObject({ run_id: started.run_id, verdict: "breached", exit_code: 3 });
    expect(stopped.run.thresholds.map((t) => [t.expr, t.ok])).toEqual([
      ["users.crashed==0", true],
      ["users.crashed!=0", false],
    ]);

    const env = { AMOC_RUN_DIR: RUN_DIR };
    const listed = await amoc(["runs", "--json"], { env });
    expect(listed.code, listed.stderr).toBe(0);
    const runs = JSON.parse(listed.stdout) as Array<{ id: string; scenario: string; verdict: string }>;
    expect(runs.find((r) => r.id === started.run_id)).toMatchObject({ scenario: "dummy", verdict: "breached" });
    // the first test's run, started over REST too, is there with its own scenario
    expect(runs.some((r) => r.scenario === "up_dummy")).toBe(true);

    const history = (await (await api(`${url}/dashboard/runs`)).json()) as {
      runs: Array<{ id: string; verdict: string; exit_code: number | null }>;
    };
    expect(history.runs.find((r) => r.id === started.run_id)).toMatchObject({ verdict: "breached", exit_code: 3 });

    // --name keeps one scenario's runs
    const named = await amoc(["runs", "--name", "dummy"], { env });
    expect(named.code, named.stderr).toBe(0);
    const rows = named.stdout.trim().split("\n").slice(1);
    expect(rows.length).toBeGreaterThanOrEqual(1);
    for (const row of rows) expect(row).toMatch(/^\S+\s+dummy\s/);
    expect(named.stdout).toContain(started.run_id);
    const none = await amoc(["runs", "--name", "no_such_scenario"], { env });
    expect(none.stdout).toMatch(/no runs of 'no_such_scenario'/);
  });
});
