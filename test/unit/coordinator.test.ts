import { describe, expect, it } from "vitest";
import {
  CoordinatorHub,
  CoordinatorWaits,
  groupSpec,
  localCoordinator,
  type HubMember,
} from "../../src/coordinator/coordinator.js";
import { testController } from "../helpers/node.js";
import { until } from "../helpers/wait.js";
import { FakeClock, settle } from "../helpers/fake-clock.js";
import { groups } from "../fixtures/shapes/pairs.js";

const SHAPES = new URL("../fixtures/shapes", import.meta.url).pathname;
const m = (id: number, node = "n1"): HubMember => ({ id, value: `v${id}`, node });

describe("coordinator", () => {
  it("releases groups of N as they fill, in join order", () => {
    const out: Array<[number[], string]> = [];
    const hub = new CoordinatorHub((_n, ms, why) => out.push([ms.map((x) => x.id), why]));
    for (let id = 1; id <= 7; id++) hub.join("g", groupSpec({ groupSize: 3 }), m(id));
    expect(out).toEqual([
      [[1, 2, 3], "full"],
      [[4, 5, 6], "full"],
    ]);
    hub.clear();
  });

  it("a timeout releases a partial group exactly when it passes; 'all' groups only release then", async () => {
    const clock = new FakeClock();
    const out: Array<[number, string, number[], string]> = [];
    const hub = new CoordinatorHub((n, ms, why) => out.push([clock.now(), n, ms.map((x) => x.id), why]), clock);
    hub.join("pairs", groupSpec({ groupSize: 2, timeoutMs: 30 }), m(1));
    for (let id = 1; id <= 5; id++) hub.join("all", groupSpec({ groupSize: "all", timeoutMs: 30 }), m(id));
    await clock.advance(29);
    expect(out).toEqual([]);
    await clock.advance(1);
    expect(out).toEqual([
      [30, "pairs", [1], "timeout"],
      [30, "all", [1, 2, 3, 4, 5], "timeout"],
    ]);
    expect(clock.pending).toBe(0);
  });

  it("as amoc, the timeout restarts on every join", async () => {
    const clock = new FakeClock();
    const out: Array<[number, number[]]> = [];
    const hub = new CoordinatorHub((_n, ms) => out.push([clock.now(), ms.map((x) => x.id)]), clock);
    const spec = groupSpec({ groupSize: 3, timeoutMs: 100 });
    hub.join("g", spec, m(1));
    await clock.advance(80);
    hub.join("g", spec, m(2));
    await clock.advance(99);
    expect(out).toEqual([]);
    await clock.advance(1);
    expect(out).toEqual([[180, [1, 2]]]);
  });

  it("the last member leaving a forming group cancels its timeout", async () => {
    const clock = new FakeClock();
    const hub = new CoordinatorHub(() => expect.unreachable("nobody is left to release"), clock);
    hub.join("g", groupSpec({ groupSize: 2, timeoutMs: 100 }), m(1));
    expect(clock.pending).toBe(1);
    hub.leave("g", 1);
    expect(clock.pending).toBe(0);
    await clock.advance(1000);
  });

  it("a wait the hub never answers fails exactly after twice the timeout plus 5 s, and leaves the group", async () => {
    const clock = new FakeClock();
    const left: Array<[string, number]> = [];
    const waits = new CoordinatorWaits("n1", { join: () => {}, leave: (n, id) => void left.push([n, id]) }, clock);
    let failedAt: number | undefined;
    const p = waits.join("g", { groupSize: 2, timeoutMs: 1000 }, 7, new Promise(() => undefined)).then(
      () => expect.unreachable("the hub never answered"),
      (e: unknown) => ((failedAt = clock.now()), e),
    );
    await clock.advance(6999);
    expect(failedAt).toBeUndefined();
    await clock.advance(1);
    expect(await p).toMatchObject({ code: "COORDINATOR_TIMEOUT" });
    expect(failedAt).toBe(7000);
    expect(left).toEqual([["g", 7]]);
  });

  it("a member that leaves, or whose node dies, is never released with its group", () => {
    const out: number[][] = [];
    const hub = new CoordinatorHub((_n, ms) => out.push(ms.map((x) => x.id)));
    hub.join("g", groupSpec({ groupSize: 2 }), m(1));
    expect(hub.leave("g", 1)).toBe(true);
    hub.join("g", groupSpec({ groupSize: 2 }), m(2, "dead"));
    expect(hub.leaveNode("dead")).toBe(1);
    hub.join("g", groupSpec({ groupSize: 2 }), m(3));
    hub.join("g", groupSpec({ groupSize: 2 }), m(4));
    expect(out).toEqual([[3, 4]]);
    hub.clear();
  });

  it("refuses bad options with a usage error", () => {
    expect(() => groupSpec({ groupSize: 0 })).toThrow(/groupSize/);
    expect(() => groupSpec({ timeoutMs: -1 })).toThrow(/timeoutMs/);
  });

  it("a waiting user that is removed leaves its group cleanly and its wait rejects", async () => {
    const c = localCoordinator("n1");
    let leave!: () => void;
    const p = c.join("g", { groupSize: 2 }, 1, new Promise<void>((r) => (leave = r)));
    leave();
    await expect(p).rejects.toMatchObject({ code: "USER_ABORTED" });
    const a = c.join("g", { groupSize: 2, value: "a" }, 2, new Promise(() => undefined));
    const b = c.join("g", { groupSize: 2, value: "b" }, 3, new Promise(() => undefined));
    expect(await a).toEqual([
      { id: 2, value: "a" },
      { id: 3, value: "b" },
    ]);
    expect(await b).toEqual(await a);
    c.clear();
  });

  it("users of a local run meet in pairs through ctx.coordinate; a removed waiter leaves", async () => {
    groups.clear();
    const { controller: c } = testController({}, { scenariosDir: SHAPES });
    await c.do("pairs", 1, 5, { interarrival: 0, repeat_num: 1, group_timeout_ms: 60_000 });
    await until(() => groups.size === 4, 5000, "two pairs");
    expect(groups.get(1)!.map((x) => x.id)).toEqual([1, 2]);
    expect(groups.get(4)!.map((x) => x.id)).toEqual([3, 4]);
    // user 5 waits alone; removing it ends its wait (forced: its start() rejects, counted as removed)
    expect(c.remove(1, { force: true }).removed).toBe(1);
    await until(() => c.status().users.running === 0, 5000, "user 5 gone");
    expect(c.status().users.crashed).toBe(0);
    // user 6 joins an empty group: 5 left it. A join that filled a pair would release it at once (in the join
    // call), so once 6 runs and its start settled, it is known to wait alone
    c.add(1);
    await until(() => c.status().users.running === 1, 5000, "user 6 running");
    await settle();
    expect(groups.has(6)).toBe(false);
    await c.stop();
  });
});
