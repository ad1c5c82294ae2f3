/**
 * Detached nodes as a user drives them: `bin/amoc start`, `attach` (piped), `status`, `eval`, `list`, `stop`, with
 * real processes in a temporary run directory and a unique node name per test.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { dataDirFor } from "../../src/node/data-dir.js";
import { isPidAlive, probeNode } from "../../src/node/daemon-pid.js";
import { NatsCluster } from "../helpers/nats-cluster.js";
import { amoc, type ProcResult } from "../helpers/proc.js";

let runDir: string;
const started = new Set<string>();
let seq = 0;

beforeAll(() => {
  runDir = mkdtempSync(join(tmpdir(), "amoc-detached-"));
});

afterEach(() => {
  // leave no node behind, whatever a test did (a node still running here is killed: stop is tested on its own)
  for (const name of started) {
    const p = probeNode(dataDirFor(name, "", { AMOC_RUN_DIR: runDir }));
    if (p.state === "running") process.kill(p.pid, "SIGKILL");
  }
  started.clear();
});

afterAll(() => rmSync(runDir, { recursive: true, force: true }));

function uniqueName(): string {
  return `t${process.pid}-${++seq}`;
}

/** `bin/amoc` in the test's run directory. */
function cli(args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ProcResult> {
  return amoc(args, { ...opts, env: { AMOC_RUN_DIR: runDir, ...opts.env }, timeoutMs: 60_000 });
}

async function start(name: string, extra: string[] = [], env?: NodeJS.ProcessEnv): Promise<number> {
  started.add(name);
  const r = await cli(["start", "--name", name, ...extra], { env });
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return pidOf(name);
}

function dirOf(name: string): string {
  return join(runDir, "amoc", name);
}

function pidOf(name: string): number {
  return Number(readFileSync(join(dirOf(name), "node.pid"), "utf8").split(" ")[0]);
}

async function statusJson(
  name: string,
): Promise<{ state: string; scenario: string | null; users: Record<string, number>; pid: number; role: string }> {
  const r = await cli(["status", "--name", name, "--json"]);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

/** Polls `status --json` until `cond` holds; every wait has a timeout. */
async function waitStatus(
  name: string,
  cond: (s: Awaited<ReturnType<typeof statusJson>>) => boolean,
  timeoutMs = 20_000,
): Promise<Awaited<ReturnType<typeof statusJson>>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await statusJson(name);
    if (cond(s)) return s;
    if (Date.now() > end) throw new Error(`status of ${name} never matched: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("detached nodes", () => {
  it("keeps a run started from a piped attach going after the attach exits, and a second attach sees it", async () => {
    const name = uniqueName();
    const pid = await start(name);
    const first = await cli(["attach", "--name", name], {
      input: "amoc_local.do('dummy', 1, 100, {dummy_sleep_ms: 60000, interarrival: 0})\n",
    });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/scenario: 'dummy', from: 1, to: 100, users: 100/);

    const s = await waitStatus(name, (st) => st.users.running === 100);
    expect(s).toMatchObject({ state: "running", scenario: "dummy", pid, role: "console" });

    const second = await cli(["attach", "--name", name], {
      input: "(await amoc_local.status_raw()).users.running\n(await amoc_local.status_raw()).last_id\n",
    });
    expect(second.code).toBe(0);
    expect(second.stdout.trim().split("\n")).toEqual(["100", "100"]);
    expect(isPidAlive(pid)).toBe(true);
  });

  it("evaluates amoc_local.add(10) with eval, exits 0, and the node runs 110 users", async () => {
    const name = uniqueName();
    await start(name);
    await cli(["attach", "--name", name], {
      input: "amoc_local.do('dummy', 1, 100, {dummy_sleep_ms: 60000, interarrival: 0})\n",
    });
    const r = await cli(["eval", "--name", name, "amoc_local.add(10)"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/from: 101, to: 110, users: 10/);
    await waitStatus(name, (s) => s.users.running === 110);
    const json = await cli(["eval", "--name", name, "--json", "amoc_local.status()"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ state: "running", last_id: 110 });
  });

  it("gives eval a failing expression's error and exit code", async () => {
    const name = uniqueName();
    await start(name);
    const r = await cli(["eval", "--name", name, "amoc_local.add(10)"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot add users: the node is idle/);
    expect((await cli(["eval", "--name", name, "no_such_thing()"])).code).toBe(1);
  });

  it("serves several attached consoles at once, and stop() from one stops the run but not the node", async () => {
    const name = uniqueName();
    const pid = await start(name);
    await cli(["attach", "--name", name], { input: "amoc_local.do('idle', 1, 20, {interarrival: 0})\n" });
    const both = await Promise.all(
      [1, 2].map(() =>
        cli(["attach", "--name", name], { input: "sleep(500)\n(await amoc_local.status_raw()).state\n" }),
      ),
    );
    for (const r of both) expect(r.stdout).toBe("running\n");
    const stop = await cli(["attach", "--name", name], { input: "amoc_local.stop()\n" });
    expect(stop.stdout).toMatch(/node .*: finished \(idle\)/);
    expect(await statusJson(name)).toMatchObject({ state: "finished", pid });
  });

  it("stops gracefully: exit 0, the users stopped, pid and socket gone, then status exits 3", async () => {
    const name = uniqueName();
    const pid = await start(name, [], { AMOC_LOG_LEVEL: "info" });
    await cli(["attach", "--name", name], { input: "amoc_local.do('idle', 1, 50, {interarrival: 0})\n" });
    await waitStatus(name, (s) => s.users.running === 50);
    const r = await cli(["stop", "--name", name]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`node ${name} \\(pid ${pid}\\) stopped`));
    expect(isPidAlive(pid)).toBe(false);
    expect(existsSync(join(dirOf(name), "attach.sock"))).toBe(false);
    expect(existsSync(join(dirOf(name), "node.pid"))).toBe(false);
    expect(readFileSync(join(dirOf(name), "node.log"), "utf8")).toMatch(/"state":"finished"/);
    const st = await cli(["status", "--name", name]);
    expect(st.code).toBe(3);
    expect(st.stderr).toMatch(/is not running/);
  });

  it("starts again after the node was killed with SIGKILL: the stale pid file and socket do not block it", async () => {
    const name = uniqueName();
    const pid = await start(name);
    process.kill(pid, "SIGKILL");
    const end = Date.now() + 10_000;
    while (isPidAlive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(join(dirOf(name), "attach.sock"))).toBe(true);
    const again = await cli(["start", "--name", name]);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(new RegExp(`removed the stale pid file of pid ${pid}`));
    expect(pidOf(name)).not.toBe(pid);
    expect((await statusJson(name)).state).toBe("idle");
  });

  it("reports a node that does not answer, and stop --force kills it after the timeout", async () => {
    const name = uniqueName();
    const pid = await start(name);
    process.kill(pid, "SIGSTOP");
    const st = await cli(["status", "--name", name, "--timeout", "1"]);
    expect(st.code).toBe(1);
    expect(st.stderr).toMatch(new RegExp(`node ${name} \\(pid ${pid}\\) does not answer on its socket`));
    const polite = await cli(["stop", "--name", name, "--timeout", "1"]);
    expect(polite.code).toBe(1);
    expect(polite.stderr).toMatch(/bin\/amoc stop --force/);
    const forced = await cli(["stop", "--name", name, "--force", "--timeout", "1"]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/killed after 1 s/);
    expect(isPidAlive(pid)).toBe(false);
    expect(existsSync(join(dirOf(name), "node.pid"))).toBe(false);
    expect(existsSync(join(dirOf(name), "attach.sock"))).toBe(false);
  });

  it("refuses a second start under the same name and names the running pid", async () => {
    const name = uniqueName();
    const pid = await start(name);
    const r = await cli(["start", "--name", name]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`node ${name} is already running \\(pid ${pid}\\)`));
  });

  it("says a node is not running and exits 3 for attach, eval and stop", async () => {
    const name = uniqueName();
    for (const args of [["attach"], ["eval", "amoc_local.status()"], ["stop"], ["status"]]) {
      const r = await cli([...args, "--name", name], { input: "amoc_local.status()\n" });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(new RegExp(`node ${name} is not running`));
    }
  });

  it("lists the nodes started on this machine with their pid, state and users", async () => {
    const a = uniqueName();
    const b = uniqueName();
    const pa = await start(a);
    const pb = await start(b);
    const r = await cli(["list", "--json"]);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ name: string; pid: number; state: string }>;
    expect(rows).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: a, pid: pa, state: "idle" }),
        expect.objectContaining({ name: b, pid: pb, state: "idle" }),
      ]),
    );
  });
});

describe("detached cluster worker", () => {
  let nats: NatsCluster;
  beforeAll(async () => {
    nats = await NatsCluster.start(1);
  });
  afterAll(async () => {
    await nats?.stop();
  });

  it("starts a worker in the background that joins the cluster, reports role worker, and leaves on stop", async () => {
    const name = uniqueName();
    const env = { AMOC_NATS_URL: nats.urls.join(","), AMOC_CLUSTER_NAME: `c${process.pid}` };
    const pid = await start(name, ["--worker"], env);
    expect(await statusJson(name)).toMatchObject({ role: "worker", state: "idle", pid });
    const master = await cli(["console"], {
      input: "sleep(1500)\nJSON.stringify((await nodes()).map((n) => n.name + ':' + n.role))\n",
      env,
    });
    expect(master.stdout).toContain(`${name}:worker`);
    expect((await cli(["stop", "--name", name])).code).toBe(0);
    expect(isPidAlive(pid)).toBe(false);
  });
});
