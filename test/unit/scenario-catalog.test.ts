/** The scenario catalog: built-in and uploaded scenarios by name only, their sources, variable checks and versions. */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ScenarioCatalog } from "../../src/node/scenarios/catalog.js";
import { DirScenarioStore } from "../../src/scenario/upload-dir-store.js";
import { FIXTURES } from "../helpers/node.js";

const SOURCE = `import { defineVariables, type UserContext } from "amoc-ts";
export const variables = defineVariables({ rounds: { default: 2, doc: "rounds per user", verify: (v: number) => v > 0 } });
export async function start(_id: number, _s: unknown, ctx: UserContext<{ rounds: number }>): Promise<void> {
  ctx.metrics.count("up_c.rounds", ctx.vars.rounds);
}
`;

// inside the project, so `amoc-ts` resolves from the uploaded files
const ROOT = resolve(".run/test");
let dir: string;

beforeEach(() => {
  mkdirSync(ROOT, { recursive: true });
  dir = mkdtempSync(join(ROOT, "catalog-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function catalog(uploads = true): ScenarioCatalog {
  const store = new DirScenarioStore(join(dir, "uploads"));
  return new ScenarioCatalog({
    scenariosDir: FIXTURES,
    workDir: join(dir, "check"),
    store: async () => store,
    uploads,
  });
}

describe("the scenario catalog", () => {
  it("stores an upload by content hash and serves its source, defaults, checks and newest version by name", async () => {
    const c = catalog();
    const up = await c.upload("up_c", SOURCE);
    expect(up).toMatchObject({ name: "up_c", unchanged: false, version: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect((await c.upload("up_c", SOURCE)).unchanged).toBe(true);
    expect(await c.list()).toContainEqual({ name: "up_c", source: "uploaded", version: up.version });
    expect(await c.source("up_c")).toEqual({ name: "up_c", source: "uploaded", version: up.version, text: SOURCE });
    expect(await c.defaults("up_c")).toEqual({ rounds: 2 });
    expect(await c.check("up_c", { rounds: 0, nope: 1 })).toEqual([
      { key: "rounds", message: expect.any(String) },
      { key: "nope", message: "the scenario declares no such variable" },
    ]);
    expect(await c.resolve("up_c")).toMatchObject({ name: "up_c", source: "uploaded", version: up.version });
  });

  it("resolves a built-in name with its content hash, and refuses a name it does not know before anything runs", async () => {
    const c = catalog();
    expect(await c.resolve("lifecycle")).toMatchObject({
      name: "lifecycle",
      file: "lifecycle",
      source: "builtin",
      version: expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect((await c.source("lifecycle")).text).toMatch(/export async function start/);
    await expect(c.resolve("no_such")).rejects.toMatchObject({ code: "SCENARIO_NOT_FOUND" });
    // sources and checks are by name only, never a path
    await expect(c.source("../etc/passwd")).rejects.toMatchObject({ code: "SCENARIO_NOT_FOUND" });
    await expect(c.check("./lifecycle.ts", {})).rejects.toMatchObject({ code: "SCENARIO_NOT_FOUND" });
  });

  it("refuses an upload under a built-in name, and every upload with api_uploads off", async () => {
    await expect(catalog().upload("lifecycle", SOURCE)).rejects.toMatchObject({ code: "USAGE" });
    await expect(catalog(false).upload("up_c", SOURCE)).rejects.toMatchObject({ code: "API_UPLOADS_OFF" });
  });
});
