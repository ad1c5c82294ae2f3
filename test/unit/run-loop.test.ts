import { EventEmitter } from "node:events";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, expect, it, onTestFinished } from "vitest";
import type { ResultsOptions } from "../../src/api/run/flags.js";
import { runWithApi } from "../../src/api/run/loop.js";
import type { RunOptions } from "../../src/api/run/options.js";
import type { CommandResult } from "../../src/node/node-api.js";
import { PROJECT_ROOT } from "../../src/node/data-dir.js";
import { counts, interval, ok, report, ScriptedEngine, type View } from "../helpers/fake-engine.js";
import { testService } from "../helpers/node-service.js";

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

const NONE: ResultsOptions = { thresholds: [], abortOnFail: false };

/** `amoc run`'s loop over the real run service on a scripted cluster. */
function cluster(views: View[], start?: CommandResult) {
  const engine = new ScriptedEngine(views, start ? { start } : {});
  const svc = testService({ engine, scenariosDir: join(PROJECT_ROOT, "scenarios") });
  onTestFinished(svc.cleanup);
  return { api: svc.api, engine, calls: engine.calls };
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

const fast = { pollMs: 1, signals: new EventEmitter() };

describe("the run loop of bin/amoc run", () => {
  it("ends with exit 1 naming a worker that failed to start its share", async () => {
    const done = { w1: ok(report("w1", counts({ started: 2, finished: 2 }))), w2: ok(report("w2", counts())) };
    const { api } = cluster([done], {
      nodes: { w1: { ok: true, result: {} }, w2: { ok: false, error: "unknown scenario 'dummy'" } },
    });
    const err = sink();
    const r = await runWithApi(api, OPTS, NONE, { err: err.out, isTTY: false, ...fast });
    expect(r.exitCode).toBe(1);
    expect(err.text()).toMatch(/node w2 failed to start its share of the users: unknown scenario 'dummy'/);
    expect(r.summary.users).toMatchObject({ started: 2, finished: 2 });
    expect(r.summary.problems).toEqual([
      { node: "w2", kind: "node_start_failed", message: expect.stringMatching(/^node w2 failed/) },
    ]);
    expect(r.end.verdict).toBe("failed");
  });

  it("ends with a clear error when no user starts within the bound", async () => {
    const waiting = { w1: ok(report("w1", counts({ pending: 4 }))) };
    const { api, calls } = cluster([waiting]);
    const err = sink();
    const r = await runWithApi(api, OPTS, NONE, { err: err.out, isTTY: false, noStartMs: 20, ...fast });
    expect(r.exitCode).toBe(1);
    expect(r.problems).toEqual(["no user started within 20 ms of the start"]);
    expect(r.summary.problems).toContainEqual({ kind: "no_start", message: r.problems[0] });
    expect(calls.at(-1)).toBe("stop");
  });

  it("ends with a clear error when every node of the run is gone", async () => {
    const running = { w1: ok(report("w1", counts({ running: 2, started: 2 }))) };
    const gone = { w1: { ok: false as const, error: "down (no heartbeat)" } };
    const { api } = cluster([running, running, gone]);
    const err = sink();
    const r = await runWithApi(api, OPTS, NONE, { err: err.out, isTTY: false, ...fast });
    expect(r.exitCode).toBe(1);
    expect(err.text()).toMatch(/every node of the run is gone: w1: down \(no heartbeat\)/);
    // the node is in the summary, lost, with what it had done
    expect(r.summary.nodes).toEqual({ w1: { started: 2, finished: 0, crashed: 0, running: 2, lost: true } });
  });

  it("takes the summary's metrics from the run's recorded intervals, and per-node counts", async () => {
    const done = {
      w1: ok(report("w1", counts({ started: 2, finished: 2 }))),
      w2: ok(report("w2", counts({ started: 2, finished: 2 }))),
    };
    const { api, engine } = cluster([done]);
    const start = engine.start.bind(engine);
    engine.start = async (req) => {
      const r = await start(req);
      const t = Math.floor(Date.now() / 1000) * 1000;
      engine.rec!.addInterval(interval("w1", t, { "dummy.runs": 2 }, { "dummy.ms": [1, 3] }));
      engine.rec!.addInterval(interval("w2", t, { "dummy.runs": 2 }, { "dummy.ms": [2, 7] }));
      return r;
    };
    const r = await runWithApi(api, OPTS, NONE, { err: sink().out, isTTY: false, ...fast });
    expect(r.exitCode).toBe(0);
    expect(r.summary.metrics["dummy.runs"]).toEqual({ count: 4 });
    expect(r.summary.metrics["dummy.ms"]).toMatchObject({ count: 4, min: 1, max: 7 });
    expect(r.summary.nodes).toEqual({
      w1: { started: 2, finished: 2, crashed: 0, running: 0 },
      w2: { started: 2, finished: 2, crashed: 0, running: 0 },
    });
    expect(r.summary.users).toEqual({ running: 0, started: 4, finished: 4, crashed: 0, removed: 0 });
    expect(r.end.verdict).toBe("passed");
    expect((await api.runs()).map((x) => x.id)).toEqual([r.end.run_id]);
  });

  it("ends the run at a live threshold breach with --abort-on-fail: exit 3, verdict breached", async () => {
    const running = { w1: ok(report("w1", counts({ running: 4, started: 4 }))) };
    const { api, engine } = cluster([running]);
    const start = engine.start.bind(engine);
    engine.start = async (req) => {
      const r = await start(req);
      setTimeout(() => engine.rec!.addInterval(interval("w1", 1000, {}, { "dummy.ms": [80] })), 20);
      return r;
    };
    const results: ResultsOptions = { thresholds: ["dummy.ms.p99<50"], abortOnFail: true };
    const r = await runWithApi(api, OPTS, results, { err: sink().out, isTTY: false, ...fast });
    expect(r.exitCode).toBe(3);
    expect(r.end).toMatchObject({ verdict: "breached", thresholds: [{ expr: "dummy.ms.p99<50", ok: false }] });
  });

  it("counts crashed users as a failure unless --allow-crashes", async () => {
    const done = { w1: ok(report("w1", counts({ started: 4, finished: 3, crashed: 1 }))) };
    const failed = await runWithApi(cluster([done]).api, OPTS, NONE, { err: sink().out, isTTY: false, ...fast });
    expect(failed.exitCode).toBe(1);
    const allowed = { ...OPTS, allowCrashes: true };
    const passed = await runWithApi(cluster([done]).api, allowed, NONE, { err: sink().out, isTTY: false, ...fast });
    expect(passed.exitCode).toBe(0);
  });

  it("writes a progress line when stderr is not a TTY, and states the effective repeat", async () => {
    const running = { w1: ok(report("w1", counts({ running: 4, started: 4 }))) };
    const { api } = cluster([running]);
    const err = sink();
    const signals = new EventEmitter();
    const p = runWithApi(api, OPTS, NONE, { err: err.out, isTTY: false, pollMs: 1, progressMs: 5, signals });
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
    const { api, calls } = cluster([running]);
    const signals = new EventEmitter();
    const p = runWithApi(api, OPTS, NONE, { err: sink().out, isTTY: false, pollMs: 1, signals });
    await waitFor(() => calls.includes("status"));
    signals.emit("SIGTERM");
    const r = await p;
    expect(r.exitCode).toBe(143);
    expect(calls.at(-1)).toBe("stop");
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
