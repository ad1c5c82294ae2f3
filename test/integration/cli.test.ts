import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AMOC, amoc } from "../helpers/proc.js";

const FIXTURES = new URL("../fixtures/scenarios", import.meta.url).pathname;

/** Polls `cond` until true; fails after `timeoutMs` naming what it waited for. */
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A console line that waits (bounded) until the local running count satisfies `cond`, e.g. "=== 20". */
const WAIT_RUNNING = (cond: string, timeoutMs = 10_000) =>
  `for (const end = Date.now() + ${timeoutMs}; !((await amoc_local.status_raw()).users.running ${cond}); await sleep(10)) if (Date.now() > end) throw new Error("timed out waiting for running ${cond}")`;

describe("bin/amoc run", () => {
  it("runs 5000 dummy users at interarrival 0 and prints one JSON summary", async () => {
    const r = await amoc(["run", "dummy", "--users", "5000", "--interarrival", "0", "--repeat", "1", "--json"]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.scenario).toBe("dummy");
    expect(s.users).toEqual({ started: 5000, finished: 5000, crashed: 0, removed: 0, running: 0 });
    expect(s.settings).toMatchObject({ interarrival: 0, repeat_num: 1 });
    expect(s.errors).toEqual([]);
    expect(typeof s.duration_ms).toBe("number");
  });

  it("exits 2 and names AMOC_INTERARRIVAL when it is not a duration", async () => {
    const r = await amoc(["run", "dummy", "--users", "1"], { env: { AMOC_INTERARRIVAL: "abc" } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/AMOC_INTERARRIVAL: must be a duration in ms/);
  });

  it("exits 2 on an unknown scenario and lists the available ones", async () => {
    const r = await amoc(["run", "no_such_scenario", "--users", "1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown scenario 'no_such_scenario'/);
    expect(r.stderr).toMatch(/available scenarios: .*dummy/);
  });

  it("exits 2 with the usage when --users is missing or --set names an undeclared variable", async () => {
    expect((await amoc(["run", "dummy"])).stderr).toMatch(/missing --users N[\s\S]*usage: amoc run/);
    const r = await amoc(["run", "dummy", "--users", "1", "--set", "dumy_sleep_ms=1"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/'dumy_sleep_ms' is not declared/);
  });

  it("exits 1 when users crashed and reports the errors by reason, with their phase, an example and when they were seen", async () => {
    const report = join(tmpdir(), `amoc-crash-report-${process.pid}.html`);
    const r = await amoc([
      "run",
      `${FIXTURES}/start_throws.ts`,
      "--users",
      "10",
      "--interarrival",
      "0",
      "--repeat",
      "1",
      "--json",
      "--log",
      "json",
      "--report",
      report,
    ]);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout);
    expect(s.users).toMatchObject({ started: 10, crashed: 5, finished: 5 });
    expect(s.errors).toEqual([
      {
        reason: "login:error: bad credentials",
        phase: "login",
        message: "bad credentials",
        // where the scenario threw it: the TypeScript line (source-mapped), in the summary, the log and the report
        where: expect.stringMatching(/start_throws\.ts:6:\d+$/),
        count: 5,
        first_seen: expect.any(Number),
        last_seen: expect.any(Number),
      },
    ]);
    const [e] = s.errors as Array<{ first_seen: number; last_seen: number }>;
    expect(Number.isInteger(e?.first_seen) && (e?.first_seen ?? 0) <= (e?.last_seen ?? 0)).toBe(true);
    // one crash line per kind on stderr, and how many were left out
    expect(r.stderr.match(/"msg":"user_crashed"/g)).toHaveLength(1);
    expect(r.stderr).toMatch(/"msg":"user_crashed".*"where":"[^"]*start_throws\.ts:6:\d+"/);
    expect(readFileSync(report, "utf8")).toMatch(/bad credentials <span class="where">at [^<]*start_throws\.ts:6:\d+</);
    rmSync(report, { force: true });
    expect(r.stderr).toMatch(/"msg":"user_crashed_lines_left_out","left_out":4/);
  });

  it("keeps JSON log lines off the terminal unless --log json asks for them, and writes them to the run log", async () => {
    const runDir = mkdtempSync(join(tmpdir(), "amoc-cli-log-"));
    try {
      const r = await amoc(["run", `${FIXTURES}/start_throws.ts`, "--users", "1", "--repeat", "1"], {
        env: { AMOC_RUN_DIR: runDir },
      });
      expect(r.code).toBe(1);
      expect(r.stderr).not.toMatch(/"level":/);
      expect(r.stdout).toMatch(/errors/);
      expect(readFileSync(join(runDir, "log", "amoc-run.log"), "utf8")).toMatch(/"msg":"user_crashed"/);
    } finally {
      rmSync(runDir, { recursive: true, force: true });
    }
  });

  it("stops users still running when --duration passes and counts them removed", async () => {
    const r = await amoc(["run", "idle", "--users", "20", "--interarrival", "0", "--duration", "0.5", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).users).toEqual({ started: 20, finished: 0, crashed: 0, removed: 20, running: 0 });
  });

  it("prints a readable summary without --json", async () => {
    const r = await amoc([
      "run",
      "dummy",
      "--users",
      "3",
      "--interarrival",
      "0",
      "--repeat",
      "2",
      "--repeat-interval",
      "10",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/users +started 3 +finished 3 +crashed 0/);
    expect(r.stdout).toMatch(/dummy\.runs +6/);
  });
});

describe("bin/amoc run says what it does", () => {
  it("refuses --users -5 and --interarrival -1 with its own message and exit 2", async () => {
    const a = await amoc(["run", "dummy", "--users", "-5"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/--users must be an integer >= 1, got '-5'/);
    const b = await amoc(["run", "dummy", "--users", "1", "--interarrival", "-1"]);
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/--interarrival must be a duration >= 0 .*got '-1'/);
    for (const r of [a, b]) expect(r.stderr).not.toMatch(/ambiguous/);
  });

  it("states the effective repeat at the start and help never prints default null", async () => {
    const r = await amoc(["run", "idle", "--users", "2", "--interarrival", "0", "--duration", "0.2", "--json"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/amoc run idle: 2 users, interarrival 0 ms, repeat infinity/);
    const once = await amoc(["run", "dummy", "--users", "2", "--interarrival", "0", "--repeat", "1", "--json"]);
    expect(once.stderr).toMatch(/repeat 1\b/);
    // one-shot without --duration: each user runs once, and the start line says so
    const plain = await amoc(["run", "dummy", "--users", "2", "--interarrival", "0", "--json"]);
    expect(plain.code).toBe(0);
    expect(plain.stderr).toMatch(/repeat 1\b[\s\S]*each user runs start\(\) once/);
    const forever = await amoc(["run", "--help"]);
    expect(forever.stdout).toMatch(/--repeat N\|infinity/);
    const help = await amoc(["help"]);
    expect(help.stdout).toMatch(/AMOC_REPEAT_NUM .*\(default infinity\)/);
    expect(help.stdout).not.toMatch(/default null/);
  });

  it("prints the summary on SIGTERM as on SIGINT, with the signal's exit code", async () => {
    const child = spawn(AMOC, ["run", "idle", "--users", "5", "--interarrival", "0", "--json"], {
      env: { ...process.env, AMOC_LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
    try {
      // the start line is written once the users are scheduled and the signal handlers are in place
      await until(() => /amoc run idle: 5 users/.test(stderr), 30_000, "the start line");
      child.kill("SIGTERM");
      expect(await closed).toBe(143);
    } finally {
      child.kill("SIGKILL");
    }
    const summary = JSON.parse(stdout);
    expect(summary.users).toMatchObject({ started: 5, removed: 5, running: 0 });
    // not "failed": the run was cut short, and the end line says by what
    expect(stderr).toMatch(/recorded: interrupted by SIGTERM \(exit 143\)/);
  });
});

describe("bin/amoc console", () => {
  it("never selects a user twice: a forced removal after a graceful one picks new users, and status counts removing", async () => {
    const session = [
      "amoc_local.do('dummy', 1, 20, {dummy_sleep_ms: 60000, interarrival: 0})",
      WAIT_RUNNING("=== 20"),
      "amoc_local.remove(5)",
      "amoc_local.remove(5, {force: true})",
      WAIT_RUNNING("=== 15"),
      "status()",
      "",
    ].join("\n");
    const r = await amoc(["console"], { input: session, timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/requested: 5, removing: 5, force: false/);
    expect(r.stdout).toMatch(/requested: 5, removing: 5, force: true/);
    // 16..20 finish their current run (a minute of sleep) while 11..15 were forced out
    expect(r.stdout).toMatch(
      /users: running 15 \(5 being removed\), pending 0, started 20, finished 0, crashed 0, removed 5/,
    );
    expect(r.stdout).toMatch(/stopped: 10 running users removed \(and 5 already being removed\), terminate called/);
  });

  it("binds bare stop() and status(), and the hint names a function that exists", async () => {
    const session = [
      "amoc_local.do('dummy', 1, 2, {dummy_sleep_ms: 60000, interarrival: 0})",
      "amoc_local.do('dummy', 1, 2)",
      "stop()",
      "status()",
      "",
    ].join("\n");
    const r = await amoc(["console"], { input: session, timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/hint: stop it first \(amoc_local\.stop\(\), or stop\(\) in the console\)/);
    expect(r.stdout).toMatch(/node \S+: finished \(dummy\)[\s\S]*node \S+: finished \(dummy\)/);
    expect(r.stdout).not.toMatch(/is not defined/);
  });

  it("supports top-level await, keeping declarations for later lines", async () => {
    const session = [
      "const r = await amoc_local.do('dummy', 1, 3, {interarrival: 0, repeat_num: 1})",
      "r.users",
      "let {scenario} = await amoc_local.status_raw()",
      "scenario + '!'",
      "await sleep(1); 6 * 7",
      "await Promise.reject(new Error('boom'))",
      "'after the error'",
      "",
    ].join("\n");
    const r = await amoc(["console"], { input: session, timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^3$/m);
    expect(r.stdout).toMatch(/^dummy!$/m);
    expect(r.stdout).toMatch(/^42$/m);
    expect(r.stdout).toMatch(/^error: boom$/m);
    expect(r.stdout).toMatch(/^after the error$/m);
    expect(r.stdout).not.toMatch(/await is only valid/);
  });

  it("runs a piped session: do, add, status, forced remove, and exit stops every user", async () => {
    const session = [
      "amoc_local.do('dummy', 1, 10, {dummy_sleep_ms: 60000, interarrival: 0})",
      "amoc_local.add(10)",
      WAIT_RUNNING("=== 20"),
      "(await amoc_local.status_raw()).users",
      "amoc_local.remove(5, {force: true})",
      WAIT_RUNNING("=== 15"),
      "(await amoc_local.status_raw()).users",
      "(await amoc_local.status_raw()).last_id",
      "",
    ].join("\n");
    const r = await amoc(["console"], { input: session, timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    const users = [...r.stdout.matchAll(/running: (\d+)/g)].map((m) => Number(m[1]));
    expect(users).toEqual([20, 15]);
    expect(r.stdout).toMatch(/requested: 5, removing: 5, force: true/);
    expect(r.stdout).toMatch(/^20$/m);
    // the users this exit took down: the 15 still running, not every removal of the run
    expect(r.stdout).toMatch(/stopped: 15 running users removed, terminate called/);
  });

  it("prints errors for calls in the wrong state, never a stack trace", async () => {
    const r = await amoc(["console"], {
      input: "amoc_local.add(10)\namoc_local.do('nope', 1, 2)\nhelp()\n",
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/error: cannot add users: the node is idle\n  hint: start a run first/);
    expect(r.stdout).toMatch(/error: unknown scenario 'nope'/);
    expect(r.stdout).toMatch(/amoc_local\.remove\(n, \{force: true\}\)/);
    expect(r.stdout).not.toMatch(/at .*\.ts:\d+/);
  });
});
