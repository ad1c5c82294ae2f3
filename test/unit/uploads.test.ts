import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runConsole } from "../../src/api/console/console.js";
import { createNode, type AmocNode } from "../../src/node/amoc-node.js";
import { nodeApis } from "../../src/node/apis.js";
import { FIXTURES } from "../helpers/node.js";
import { until } from "../helpers/wait.js";

const SOURCE = `import { defineVariables, type UserContext } from "amoc-ts";
export const variables = defineVariables({ rounds: { default: 2, doc: "rounds per user" } });
export async function start(_id: number, _s: unknown, ctx: UserContext<{ rounds: number }>): Promise<void> {
  ctx.metrics.count("up_x.rounds", ctx.vars.rounds);
}
`;

// inside the project, so `amoc-ts` resolves from the uploaded files
const ROOT = resolve(".run/test");
let dir: string;
let node: AmocNode;

beforeEach(() => {
  mkdirSync(ROOT, { recursive: true });
  dir = mkdtempSync(join(ROOT, "uploads-"));
  node = createNode({
    env: { AMOC_NODE_NAME: "up", AMOC_SCENARIOS_DIR: FIXTURES, AMOC_DATA_DIR: dir, AMOC_LOG_LEVEL: "error" },
  });
});
afterEach(async () => {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("uploaded scenarios in every front end", () => {
  it("both node APIs list an upload and the local one starts it by name", async () => {
    const apis = nodeApis(node);
    expect(nodeApis(node)).toBe(apis); // one set of APIs (one master, one store) per node
    const up = await apis.local.upload("up_x", SOURCE);
    expect(await apis.dist.scenarios()).toContainEqual({ name: "up_x", source: "uploaded", version: up.version });
    expect((await apis.dist.scenarioInfo("up_x")).source).toBe("uploaded");
    const r = await apis.local.start({ scenario: "up_x", users: 3, settings: { interarrival: 0, repeat_num: 1 } });
    expect(r).toMatchObject({ scenario: "up_x", version: up.version, users: 3 });
    await until(() => node.controller.status().users.finished === 3, 5000, "3 users finished");
    // built-ins and paths still go to the wrapped API
    await apis.local.stop().catch(() => undefined);
    expect(
      (await apis.local.start({ scenario: "lifecycle", users: 1, settings: { interarrival: 0, repeat_num: 1 } })).users,
    ).toBe(1);
  });

  it("amoc_local.do runs an uploaded scenario in the console", async () => {
    await nodeApis(node).local.upload("up_x", SOURCE);
    const input = new PassThrough();
    const output = new PassThrough();
    let out = "";
    output.on("data", (b: Buffer) => (out += b.toString()));
    const done = runConsole(node, { input, output, terminal: false }, { onExit: "detach" });
    input.write("amoc_local.do('up_x', 1, 4, {interarrival: 0, repeat_num: 1})\n");
    input.end();
    await done;
    expect(out).not.toMatch(/SCENARIO_NOT_FOUND|not found/i);
    await until(() => node.controller.status().users.finished === 4, 5000, "4 users of up_x finished");
    expect(node.controller.status().scenario).toMatch(/up_x/);
  });
});
