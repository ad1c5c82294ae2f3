/**
 * `bin/amoc runs` and `bin/amoc report` over a node's run store (AMOC_DATA_DIR), read through the node's history
 * (openHistory), never the store itself: the list, `--name` keeping one scenario's runs, show, compare, the report.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reportCommand } from "../../src/api/commands/report.js";
import { RUNS_USAGE, runsCommand } from "../../src/api/commands/runs.js";
import { RunStore } from "../../src/results/store.js";
import { RUN_STORE_FILE } from "../../src/results/store-types.js";
import { syntheticRun } from "../helpers/results-synthetic.js";

let dir: string;
let env: NodeJS.ProcessEnv;
let a: string;
let b: string;
let other: string;

/** Runs `runs ...` and returns what it printed. */
async function runs(...args: string[]): Promise<string> {
  const out = new PassThrough();
  let text = "";
  out.on("data", (d: Buffer) => (text += d.toString()));
  expect(await runsCommand(args, env, out)).toBe(0);
  return text;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "amoc-runs-cmd-"));
  env = { AMOC_DATA_DIR: dir, AMOC_NODE_NAME: "n1" };
  const storePath = join(dir, RUN_STORE_FILE);
  a = syntheticRun({ storePath, nodes: 1, seconds: 5, usersPerNode: 2 }).runId;
  b = syntheticRun({ storePath, nodes: 1, seconds: 5, usersPerNode: 3 }).runId;
  // a run of another scenario that never ended (a node killed mid-run): listed as incomplete
  const s = RunStore.open(storePath);
  other = s.createRun({
    scenario: "dummy",
    settings: {},
    nodes: ["n1"],
    users: 1,
    intervalMs: 1000,
    startedAt: Date.now(),
  });
  s.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("bin/amoc runs", () => {
  it("lists every recorded run, newest first, with its verdict", async () => {
    const rows = (await runs()).trim().split("\n");
    expect(rows[0]).toMatch(/^ID\s+SCENARIO/);
    const ids = rows.slice(1).map((r) => r.split(/\s+/)[0]);
    // the synthetic runs share one start time: their order between them is the store's
    expect(ids[0]).toBe(other);
    expect(ids.slice(1).sort()).toEqual([a, b].sort());
    expect(rows[1]).toMatch(/dummy .*incomplete$/);
  });

  it("--name keeps one scenario's runs, and says so when it has none", async () => {
    const json = JSON.parse(await runs("--name", "one_to_one", "--json")) as Array<{ id: string; scenario: string }>;
    expect(json.map((r) => r.id).sort()).toEqual([a, b].sort());
    expect(json.every((r) => r.scenario === "one_to_one")).toBe(true);
    expect((await runs("--name", "dummy")).trim().split("\n").slice(1)).toEqual([expect.stringContaining(other)]);
    expect(await runs("--name", "nope")).toMatch(/no runs of 'nope' recorded/);
    expect(RUNS_USAGE).toContain("--name SCENARIO");
  });

  it("--name and --limit belong to the list: with show or compare they are a usage error", async () => {
    await expect(runsCommand(["show", a, "--name", "x"], env, new PassThrough())).rejects.toMatchObject({
      code: "USAGE",
    });
  });

  it("show and compare read one run and two runs side by side", async () => {
    expect(await runs("show", a)).toMatch(new RegExp(`^run\\s+${a}`));
    const cmp = await runs("compare", a, b);
    expect(cmp).toMatch(new RegExp(`^A ${a}  one_to_one`));
    expect(cmp).toMatch(/regressions/);
    // 'last' is the newest run; a prefix names a run when it is unique
    const j = JSON.parse(await runs("compare", a, "last", "--json")) as { a: string; b: string };
    expect([j.a, j.b]).toEqual([a, other]);
  });

  it("compare warns when the two runs ran different scenarios, before any regression is read", async () => {
    const cmp = await runs("compare", a, other);
    expect(cmp).toMatch(/^warning: A ran one_to_one and B ran dummy: different scenarios/);
    const j = JSON.parse(await runs("compare", a, other, "--json")) as { warning?: string };
    expect(j.warning).toMatch(/A ran one_to_one and B ran dummy/);
    expect(await runs("compare", a, b)).not.toMatch(/warning/);
  });
});

describe("bin/amoc report", () => {
  it("writes the report of a run to the file given", async () => {
    const out = join(dir, "r.html");
    const sink = new PassThrough();
    expect(await reportCommand([a, "-o", out], env, sink)).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(readFileSync(out, "utf8")).toMatch(/^<!doctype html>/i);
    expect(readFileSync(out, "utf8")).toContain(a);
  });
});
