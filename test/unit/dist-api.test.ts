import { afterEach, describe, expect, it } from "vitest";
import { loadNodeSettings } from "../../src/config/load.js";
import { silentLogger } from "../../src/log.js";
import type { NodeService } from "../../src/node/node-service.js";
import { DistEngine } from "../../src/node/run/dist-engine.js";
import { fakeCluster, type FakeNode } from "../helpers/fake-cluster.js";
import { FIXTURES } from "../helpers/node.js";
import { code } from "../helpers/error-code.js";
import { testService } from "../helpers/node-service.js";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** The dist API of the fake cluster's master, joined through the in-memory bus. */
async function distApi(
  n: number,
): Promise<{ api: NodeService; master: FakeNode; workers: FakeNode[]; joins: () => number }> {
  const c = await fakeCluster(n);
  let joins = 0;
  const settings = loadNodeSettings({ env: { AMOC_NODE_NAME: "m1", AMOC_SCENARIOS_DIR: FIXTURES } });
  const engine = new DistEngine({
    settings,
    controller: c.master.controller,
    telemetry: c.master.telemetry,
    log: silentLogger(),
    onClose: () => {},
    join: async () => {
      joins++;
      return { master: c.master.master, membership: c.master.membership, close: async () => {} };
    },
  });
  const svc = testService({ engine, scenariosDir: FIXTURES, telemetry: c.master.telemetry });
  close = async () => {
    await c.close();
    svc.cleanup();
  };
  return { api: svc.api, master: c.master, workers: c.workers, joins: () => joins };
}

describe("the dist Node API", () => {
  it("joins once, on first use, and answers per node with totals", async () => {
    const { api, joins } = await distApi(2);
    expect(joins()).toBe(0);
    const started = await api.start({ scenario: "lifecycle", users: 4, settings: { interarrival: 0, repeat_num: 1 } });
    expect(started.users).toBe(4);
    expect(Object.keys(started.nodes).sort()).toEqual(["w1", "w2"]);
    const s = await api.status();
    expect(s.mode).toBe("dist");
    expect(s.run).toMatchObject({ state: "running", scenario: "lifecycle", master: "m1" });
    expect(Object.keys(s.nodes).sort()).toEqual(["w1", "w2"]);
    expect((await api.nodeStatus("w1")).node).toBe("w1");
    const nodes = await api.nodes();
    expect(nodes.map((x) => [x.name, x.role]).sort()).toEqual([
      ["m1", "master"],
      ["w1", "worker"],
      ["w2", "worker"],
    ]);
    const stopped = await api.stop();
    expect(Object.keys(stopped.nodes).sort()).toEqual(["w1", "w2"]);
    expect(joins()).toBe(1);
  });

  it("names an unknown node with NODE_NOT_FOUND (404), in commands and in nodeStatus", async () => {
    const { api } = await distApi(1);
    expect(await code(api.nodeStatus("nope"))).toBe("NODE_NOT_FOUND");
    expect(await code(api.start({ scenario: "lifecycle", users: 1, nodes: ["nope"] }))).toBe("NODE_NOT_FOUND");
  });

  it("reports who it waits for while fewer workers than asked are up", async () => {
    const { api } = await distApi(1);
    const seen: string[][] = [];
    await expect(api.waitForWorkers(2, 2500, (live) => seen.push(live))).rejects.toThrow(
      /only 1 of 2 workers joined within 2500 ms \(w1\)/,
    );
    expect(seen[0]).toEqual(["w1"]);
  });
});
