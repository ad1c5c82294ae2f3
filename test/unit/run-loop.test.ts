import { EventEmitter } from "node:events";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import type { RunOptions } from "../../src/api/run-command.js";
import { runWithApi } from "../../src/api/run-loop.js";
import type { StatusReport } from "../../src/controller/controller.js";
import type { UserCounts } from "../../src/users/user-pool.js";
import type { ApiStatus, CommandResult, NodeApi, PerNode } from "../../src/node/node-api.js";

const OPTS: RunOptions = {
  scenario: "dummy",
  users: 4,
  from: 1,
  durationS: undefined,
  json: true,
  allowCrashes: false,
  settings: {},
  dist: true,
  workers: 2,
};

function counts(p: Partial<UserCounts> = {}): UserCounts {
  return { running: 0, started: 0, finished: 0, crashed: 0, removed: 0, pending: 0, removing: 0, ...p };
}

function report(node: string, users: UserCounts): StatusReport {
  return {
    node,
    state: "running",
    scenario: "dummy",
    users,
    first_id: 1,
    last_id: 4,
    settings: { interarrival: 0, repeat_num: "infinity", repeat_interval: 60000 },
    errors: [],
    uptime_ms: 0,
  };
}

/** A scripted cluster: each status() call takes the next per-node view (the last one repeats). */
function fakeApi(
  views: Array<Record<string, PerNode<StatusReport>>>,
  start: CommandResult,
  stopMetrics: Record<string, unknown> = {},
): NodeApi & { calls: string[] } {
  let i = 0;
  const calls: string[] = [];
  const current = () => views[Math.min(i, views.length - 1)]!;
  const sum = (nodes: Record<string, PerNode<StatusReport>>) => {
    const t = counts();
    for (const r of Object.values(nodes))
      if (r.ok) for (const k of Object.keys(t) as Array<keyof UserCounts>) t[k] += r.result.users[k];
    return t;
  };
  const api = {
    mode: "dist" as const,
    nodeName: "master",
    calls,
    nodes: async () => [],
    status: async (): Promise<ApiStatus> => {
      calls.push("status");
      const nodes = current();
      i++;
      return { mode: "dist", run: null, users: sum(nodes), nodes };
    },
    nodeStatus: async () => {
      throw new Error("unused");
    },
    scenarios: async () => [],
    scenarioInfo: async () => {
      throw new Error("unused");
    },
    start: async () => {
      calls.push("start");
      return start;
    },
    add: async () => ({ nodes: {} }),
    remove: async () => ({ nodes: {} }),
    updateSettings: async () => ({ nodes: {} }),
    stop: async (): Promise<CommandResult> => {
      calls.push("stop");
      return { nodes: current() as Record<string, PerNode<Record<string, unknown>>>, metrics: stopMetrics };
    },
  };
  return api;
}

function sink(): { out: Writable; text: () => string } {
  let text = "";
  return {
    out: new Writable({
      write(c, _e, cb) {
        text += String(c);
        cb();
      },
    }),
    text: () => text,
  };
}

const ok = (r: StatusReport): PerNode<StatusReport> => ({ ok: true, result: r });
const fast = { pollMs: 1, signals: new EventEmitter() };

describe("the run loop of bin/amoc run", () => {
  it("ends with exit 1 naming a worker that failed to start its share", async () => {
    const done = { w1: ok(report("w1", counts({ started: 2, finished: 2 }))), w2: ok(report("w2", counts())) };
    const api = fakeApi([done], {
      nodes: { w1: { ok: true, result: {} }, w2: { ok: false, error: "unknown scenario 'dummy'" } },
    });
    const err = sink();
    const r = await runWithApi(api, OPTS, { metrics: () => ({}) }, { err: err.out, isTTY: false, ...fast });
    expect(r.exitCode).toBe(1);
    expect(err.text()).toMatch(/node w2 failed to start its share of the users: unknown scenario 'dummy'/);
    expect(r.summary.users).toMatchObject({ started: 2, finished: 2 });
    expect(r.summary.problems).toEqual([
      { node: "w2", kind: "node_start_failed", message: expect.stringMatching(/^node w2 failed/) },
    ]);
  });

  it("ends with a clear error when no user starts within the bound", async () => {
    const waiting = { w1: ok(report("w1", counts({ pending: 4 }))) };
    const api = fakeApi([waiting], { nodes: { w1: { ok: true, result: {} } } });
    const err = sink();
    const r = await runWithApi(
      api,
      OPTS,
      { metrics: () => ({}) },
      { err: err.out, isTTY: false, noStartMs: 20, ...fast },
    );
    expect(r.exitCode).toBe(1);
    expect(r.problems).toEqual(["no user started within 20 ms of the start"]);
    expect(api.calls.at(-1)).toBe("stop");
  });

  it("ends with a clear error when every node of the run is gone", async () => {
    const running = { w1: ok(report("w1", counts({ running: 2, started: 2 }))) };
    const gone = { w1: { ok: false as const, error: "down (no heartbeat)" } };
    const api = fakeApi([running, running, gone], { nodes: { w1: { ok: true, result: {} } } });
    const err = sink();
    const r = await runWithApi(api, OPTS, { metrics: () => ({}) }, { err: err.out, isTTY: false, ...fast });
    expect(r.exitCode).toBe(1);
    expect(err.text()).toMatch(/every node of the run is gone: w1: down \(no heartbeat\)/);
  });

  it("takes the summary's metrics from the stop result, and per-node counts", async () => {
    const done = {
      w1: ok(report("w1", counts({ started: 2, finished: 2 }))),
      w2: ok(report("w2", counts({ started: 2, finished: 2 }))),
    };
    const metrics = { "dummy.runs": { count: 4 } };
    const api = fakeApi([done], { nodes: { w1: { ok: true, result: {} }, w2: { ok: true, result: {} } } }, metrics);
    const r = await runWithApi(
      api,
      OPTS,
      { perNode: true, metrics: (stop) => stop.metrics as never },
      { err: sink().out, isTTY: false, ...fast },
    );
    expect(r.exitCode).toBe(0);
    expect(r.summary.metrics).toEqual(metrics);
    expect(r.summary.nodes).toEqual({
      w1: { started: 2, finished: 2, crashed: 0, running: 0 },
      w2: { started: 2, finished: 2, crashed: 0, running: 0 },
    });
    expect(r.summary.users).toEqual({ running: 0, started: 4, finished: 4, crashed: 0, removed: 0 });
  });

  it("writes a progress line when stderr is not a TTY, and states the effective repeat", async () => {
    const running = { w1: ok(report("w1", counts({ running: 4, started: 4 }))) };
    const api = fakeApi([running], { nodes: { w1: { ok: true, result: {} } } });
    const err = sink();
    const signals = new EventEmitter();
    const p = runWithApi(
      api,
      OPTS,
      { metrics: () => ({}) },
      { err: err.out, isTTY: false, pollMs: 1, progressMs: 5, signals },
    );
    await waitFor(() => /running 4 +started 4\/4/.test(err.text()));
    signals.emit("SIGINT");
    const r = await p;
    expect(r.exitCode).toBe(130);
    expect(err.text()).toMatch(
      /^amoc run dummy: 4 users, interarrival 0 ms, repeat infinity, repeat interval 60000 ms\n {2}users repeat until stopped/,
    );
    expect(err.text()).not.toMatch(/\r/);
  });

  it("stops and returns the summary on SIGTERM as on SIGINT, with exit 143", async () => {
    const running = { w1: ok(report("w1", counts({ running: 4, started: 4 }))) };
    const api = fakeApi([running], { nodes: { w1: { ok: true, result: {} } } });
    const signals = new EventEmitter();
    const p = runWithApi(api, OPTS, { metrics: () => ({}) }, { err: sink().out, isTTY: false, pollMs: 1, signals });
    await waitFor(() => api.calls.includes("status"));
    signals.emit("SIGTERM");
    const r = await p;
    expect(r.exitCode).toBe(143);
    expect(api.calls.at(-1)).toBe("stop");
    expect(signals.listenerCount("SIGTERM") + signals.listenerCount("SIGINT")).toBe(0);
  });
});

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 2));
  }
}
