import { describe, expect, it } from "vitest";
import { amoc } from "../helpers/proc.js";

const FIXTURES = new URL("../fixtures/scenarios", import.meta.url).pathname;

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

  it("exits 1 when users crashed and reports the errors with their phase", async () => {
    const r = await amoc(["run", `${FIXTURES}/start_throws.ts`, "--users", "10", "--interarrival", "0", "--repeat", "1", "--json"]);
    expect(r.code).toBe(1);
    const s = JSON.parse(r.stdout);
    expect(s.users).toMatchObject({ started: 10, crashed: 5, finished: 5 });
    expect(s.errors).toEqual([{ phase: "login", message: "bad credentials", count: 5 }]);
  });

  it("stops users still running when --duration passes and counts them removed", async () => {
    const r = await amoc(["run", "idle", "--users", "20", "--interarrival", "0", "--duration", "0.5", "--json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).users).toEqual({ started: 20, finished: 0, crashed: 0, removed: 20, running: 0 });
  });

  it("prints a readable summary without --json", async () => {
    const r = await amoc(["run", "dummy", "--users", "3", "--interarrival", "0", "--repeat", "2", "--repeat-interval", "10"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/users +started 3 +finished 3 +crashed 0/);
    expect(r.stdout).toMatch(/dummy\.runs +6/);
  });
});

describe("bin/amoc console", () => {
  it("runs a piped session: do, add, status, forced remove, and exit stops every user", async () => {
    const session = [
      "amoc_local.do('dummy', 1, 10, {dummy_sleep_ms: 60000, interarrival: 0})",
      "amoc_local.add(10)",
      "sleep(300)",
      "amoc_local.status_raw().users",
      "amoc_local.remove(5, {force: true})",
      "sleep(100)",
      "amoc_local.status_raw().users",
      "amoc_local.status_raw().last_id",
      "",
    ].join("\n");
    const r = await amoc(["console"], { input: session, timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    const users = [...r.stdout.matchAll(/running: (\d+)/g)].map((m) => Number(m[1]));
    expect(users).toEqual([20, 15]);
    expect(r.stdout).toMatch(/requested: 5, removed: 5, force: true/);
    expect(r.stdout).toMatch(/^20$/m);
    expect(r.stdout).toMatch(/stopped: 20 users removed, terminate called/);
  });

  it("prints errors for calls in the wrong state, never a stack trace", async () => {
    const r = await amoc(["console"], { input: "amoc_local.add(10)\namoc_local.do('nope', 1, 2)\nhelp()\n", timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/error: cannot add users: the node is idle\n  hint: start a run first/);
    expect(r.stdout).toMatch(/error: unknown scenario 'nope'/);
    expect(r.stdout).toMatch(/amoc_local\.remove\(n, \{force: true\}\)/);
    expect(r.stdout).not.toMatch(/at .*\.ts:\d+/);
  });
});
