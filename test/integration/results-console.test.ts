/**
 * Runs started from `bin/amoc console` (its REST API and its REPL) are recorded in the run store like `bin/amoc run`'s:
 * thresholds from the config file and the start body, `last_interval` in status, `bin/amoc runs` lists them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/nats-cluster.js";
import { AMOC, amoc } from "../helpers/proc.js";

/** The REST token given to the console (a user who sets AMOC_API_TOKEN sends it as a bearer header). */
const API_TOKEN = "results-test-token-0123456789";
const BEARER = { authorization: `Bearer ${API_TOKEN}` };

let dir: string;
let url: string;
let proc: ChildProcess;
let env: NodeJS.ProcessEnv;

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const patch = (path: string, body: unknown) =>
  fetch(`${url}${path}`, {
    method: "PATCH",
    headers: { "content-type": "application/json", ...BEARER },
    body: JSON.stringify(body),
  });

interface ListedRun {
  id: string;
  scenario: string;
  verdict: string;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "amoc-results-console-"));
  writeFileSync(join(dir, "config.json"), JSON.stringify({ thresholds: ["users.crashed==0"] }));
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  env = {
    ...process.env,
    AMOC_LOG_LEVEL: "warn",
    AMOC_DATA_DIR: join(dir, "data"),
    AMOC_CONFIG_FILE: join(dir, "config.json"),
    AMOC_NODE_NAME: "rc1",
  };
  delete env.AMOC_NATS_URL;
  // stdin stays open: the console lives until it ends
  proc = spawn(AMOC, ["console"], {
    env: { ...env, AMOC_API_PORT: String(port), AMOC_API_TOKEN: API_TOKEN },
    stdio: ["pipe", "ignore", "pipe"],
  });
  proc.stderr?.on("data", (d: Buffer) => process.stderr.write(`[console] ${d.toString()}`));
  await until(async () => (await fetch(`${url}/health`)).ok, 60_000, "the console's REST API");
}, 90_000);

afterAll(async () => {
  proc?.stdin?.end();
  await new Promise<void>((r) => (proc.exitCode !== null ? r() : proc.once("exit", () => r())));
  rmSync(dir, { recursive: true, force: true });
});

describe("recorded console runs", () => {
  it("a REST start with thresholds is recorded: status shows the last interval, the stop stores the verdict", async () => {
    const bad = await patch("/execution/start", { scenario: "dummy", users: 2, thresholds: ["dummy.runs p99"] });
    expect(bad.status).toBe(400);
    const start = await patch("/execution/start", {
      scenario: "dummy",
      users: 3,
      settings: { interarrival: 0, repeat_num: "infinity", repeat_interval: 50 },
      thresholds: ["dummy.runs.count>=1", "dummy.runs.count<0"],
    });
    expect(start.status, await start.clone().text()).toBe(200);
    let last: { rates: Record<string, number> } | null = null;
    await until(
      async () => {
        last = ((await (await fetch(`${url}/status`, { headers: BEARER })).json()) as { last_interval: typeof last })
          .last_interval;
        return (last?.rates["dummy.runs"] ?? 0) > 0;
      },
      20_000,
      "a last interval with runs in GET /status",
    );
    expect((await patch("/execution/stop", {})).status).toBe(200);
    const listed = await amoc(["runs", "--json"], { env });
    expect(listed.code, listed.stderr).toBe(0);
    const runs = JSON.parse(listed.stdout) as ListedRun[];
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ scenario: "dummy", verdict: "breached" });
    const shown = await amoc(["runs", "show", runs[0]!.id, "--json"], { env });
    const th = (JSON.parse(shown.stdout) as { thresholds: Array<{ expr: string; ok: boolean }> }).thresholds;
    // the config file's first, then the request's
    expect(th.map((t) => [t.expr, t.ok])).toEqual([
      ["users.crashed==0", true],
      ["dummy.runs.count>=1", true],
      ["dummy.runs.count<0", false],
    ]);
  }, 60_000);

  it("amoc_local.do in a piped console script is recorded, and amoc_local.status() prints the last interval", async () => {
    const script = [
      `await amoc_local.do("dummy", 1, 2, { interarrival: 0, repeat_num: "infinity", repeat_interval: 50 })`,
      `for (let i = 0; i < 200 && !(await amoc_local.status()).raw.last_interval; i++) await sleep(50)`,
      `await amoc_local.status()`,
      `await amoc_local.stop()`,
    ].join("\n");
    const r = await amoc(["console"], {
      env: { ...env, AMOC_NODE_NAME: "rc2" },
      input: script + "\n",
      timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/last interval \(\d\d:\d\d:\d\d, 1 s\)/);
    const runs = JSON.parse((await amoc(["runs", "--json"], { env })).stdout) as ListedRun[];
    expect(runs.map((x) => [x.scenario, x.verdict])).toEqual([
      ["dummy", "passed"],
      ["dummy", "breached"],
    ]);
  }, 90_000);
});
