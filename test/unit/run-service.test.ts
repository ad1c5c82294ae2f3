/**
 * The one run service: every run, whatever started it, is validated before anything changes, recorded in the node's
 * run store, and ended with its verdict in the stop reply; its summary lists every node, a lost one marked lost.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it, onTestFinished } from "vitest";
import { evaluateOnce } from "../../src/api/attach/evaluate.js";
import { runConsole } from "../../src/api/console/console.js";
import { configThresholds } from "../../src/node/run/thresholds.js";
import { RunStore } from "../../src/results/store.js";
import { counts, interval, ok, report, ScriptedEngine } from "../helpers/fake-engine.js";
import { FIXTURES, testController } from "../helpers/node.js";
import { testService } from "../helpers/node-service.js";

function local() {
  const { controller, telemetry } = testController();
  const svc = testService({ controller, telemetry, scenariosDir: FIXTURES, intervalMs: 50 });
  onTestFinished(async () => {
    await controller.shutdown();
    svc.cleanup();
  });
  return { ...svc, controller, telemetry };
}

describe("a refused start", () => {
  it("leaves the node idle with no run in the store: a bad variable, a bad threshold, an unknown scenario", async () => {
    const { api, controller } = local();
    const refusals = [
      () => api.start({ scenario: "lifecycle", users: 2, settings: { delay_ms: -5 } }),
      () => api.start({ scenario: "lifecycle", users: 2, settings: { no_such_variable: 1 } }),
      () => api.start({ scenario: "lifecycle", users: 2, thresholds: ["p99 below 5"] }),
      () => api.start({ scenario: "lifecycle", users: 2, abortOnFail: true }),
      () => api.start({ scenario: "no_such_scenario", users: 2 }),
      () => api.start({ scenario: "lifecycle", users: 0 }),
    ];
    for (const start of refusals) await expect(start()).rejects.toMatchObject({ code: expect.any(String) });
    expect(controller.state).toBe("idle");
    expect(controller.status().error).toBeUndefined();
    expect(await api.runs()).toEqual([]);
    // and the node still starts a good run afterwards
    const r = await api.start({ scenario: "lifecycle", users: 1, settings: { interarrival: 0, repeat_num: 1 } });
    expect((await api.runs()).map((x) => x.id)).toEqual([r.run_id]);
    await api.stop();
  });

  it("on a node already running is refused without touching that run or its record", async () => {
    const { api, controller } = local();
    const first = await api.start({ scenario: "lifecycle", users: 1, settings: { interarrival: 0 } });
    await expect(api.start({ scenario: "lifecycle", users: 1 })).rejects.toMatchObject({ code: "STATE_INVALID" });
    expect(controller.state).toBe("running");
    expect((await api.runs()).map((r) => [r.id, r.verdict])).toEqual([[first.run_id, "running"]]);
    const stop = await api.stop();
    expect(stop.run?.run_id).toBe(first.run_id);
  });
});

describe("a run started from the console or attach", () => {
  it("is in runs() with its verdict in the stop reply (console)", async () => {
    const { api } = local();
    const input = new PassThrough();
    const output = new PassThrough();
    let out = "";
    output.on("data", (d: Buffer) => (out += d.toString()));
    input.end(
      "amoc_local.do('lifecycle', 1, 2, {interarrival: 0, repeat_num: 1})\nawait sleep(100)\namoc_local.stop()\n",
    );
    await runConsole({ local: api }, { input, output, terminal: false }, { onExit: "detach" });
    const runs = await api.runs();
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ scenario: "lifecycle", verdict: "passed", exitCode: 0 });
    expect(out).toContain(`run ${runs[0]!.id} recorded: passed`);
  });

  it("is stopped and recorded when the console exits, which prints its verdict", async () => {
    const { api } = local();
    const input = new PassThrough();
    const output = new PassThrough();
    let out = "";
    output.on("data", (d: Buffer) => (out += d.toString()));
    input.end("amoc_local.do('lifecycle', 1, 2, {interarrival: 0, delay_ms: 60000})\nawait sleep(50)\n");
    await runConsole({ local: api }, { input, output, terminal: false }, { onExit: "stop-run" });
    const [run] = await api.runs();
    expect(out).toMatch(/stopped: 2 running users removed, terminate called/);
    expect(out).toContain(`run ${run!.id} recorded: ${run!.verdict}`);
  });

  it("is in runs() with its verdict in the stop reply (attach eval)", async () => {
    const { api } = local();
    await evaluateOnce("amoc_local.do('lifecycle', 1, 1, {interarrival: 0, repeat_num: 1})", { local: api });
    const stopped = await evaluateOnce("stop()", { local: api });
    expect(stopped.exit).toBe(0);
    expect(stopped.text).toMatch(/recorded: passed/);
    const [run] = await api.runs({ scenario: "lifecycle" });
    expect(run).toMatchObject({ verdict: "passed" });
    expect(stopped.value).toMatchObject({ run: { run_id: run!.id, verdict: "passed", exit_code: 0 } });
    expect(await api.runs({ scenario: "other" })).toEqual([]);
  });
});

describe("the run's end", () => {
  it("judges the config file's and the request's thresholds on the recorded totals, with status' last interval", async () => {
    const engine = new ScriptedEngine([{ n1: ok(report("n1", counts({ started: 2, finished: 2 }))) }]);
    const svc = testService({ engine, scenariosDir: FIXTURES, fileThresholds: ["xmpp.messages_sent.count>=20"] });
    onTestFinished(svc.cleanup);
    const api = svc.api;
    const r = await api.start({ scenario: "lifecycle", users: 2, thresholds: ["xmpp.message_ttd.p99<1"] });
    const t = Math.floor(Date.now() / 1000) * 1000;
    engine.rec!.addInterval(interval("n1", t, { "xmpp.messages_sent": 20 }, { "xmpp.message_ttd": [5, 10, 24] }));
    engine.rec!.addInterval(interval("n1", t + 1000, { "xmpp.messages_sent": 1 }));
    expect((await api.status()).last_interval).toMatchObject({ t: t + 1000, rates: { "xmpp.messages_sent": 1 } });
    const stop = await api.stop();
    expect(stop.run).toMatchObject({ run_id: r.run_id, verdict: "breached", exit_code: 3 });
    // the summary's metrics are the recording's merged totals
    expect(stop.run!.summary.metrics["xmpp.messages_sent"]).toEqual({ count: 21 });
    expect(stop.run!.summary.metrics["xmpp.message_ttd"]).toMatchObject({ count: 3, min: 5, max: 24 });
    expect(api.lastInterval()).toBeNull();
    const store = RunStore.open(svc.storePath, { readonly: true });
    try {
      expect(store.thresholds(r.run_id).map((x) => [x.expr, x.ok])).toEqual([
        ["xmpp.messages_sent.count>=20", true],
        ["xmpp.message_ttd.p99<1", false],
      ]);
      expect(store.getRun(r.run_id)).toMatchObject({ verdict: "breached", exitCode: 3 });
    } finally {
      store.close();
    }
  });

  it("lists every node of the run, a lost one marked lost with its last counts and where its users went", async () => {
    // w3 is a live worker the run did not select: status lists it, the summary does not
    const idle = ok(report("w3", counts(), { state: "idle" }));
    const both = {
      w1: ok(report("w1", counts({ running: 2, started: 2 }))),
      w2: ok(report("w2", counts({ running: 2, started: 2, crashed: 1 }))),
      w3: idle,
    };
    const w2down = { w1: both.w1, w2: { ok: false as const, error: "down (no heartbeat)" }, w3: idle };
    const done = { w1: ok(report("w1", counts({ started: 4, finished: 4 }))) };
    const start = { nodes: { w1: { ok: true as const, result: {} }, w2: { ok: true as const, result: {} } } };
    const engine = new ScriptedEngine([both, w2down, done], { start });
    const svc = testService({ engine, scenariosDir: FIXTURES });
    onTestFinished(svc.cleanup);
    const api = svc.api;
    await api.start({ scenario: "lifecycle", users: 4 });
    await api.status();
    // the master says a node is down, then where its users went; a worker the run never used going down is no part
    const down = (node: string, data: Record<string, unknown> = {}) =>
      engine.rec!.addEvent({ t: Date.now(), kind: "node_down", node, data: { node, ...data } });
    down("w2");
    down("w2", { redealt: 2, to: ["w1"] });
    down("w9");
    await api.status();
    const stop = await api.stop();
    const s = stop.run!.summary;
    expect(s.nodes).toEqual({
      w1: { started: 4, finished: 4, crashed: 0, running: 0 },
      w2: { started: 2, finished: 0, crashed: 1, running: 2, lost: true, redealt_to: { w1: 2 } },
    });
    expect(s.problems).toContainEqual(expect.objectContaining({ node: "w2", kind: "node_lost" }));
    expect(s.users).toMatchObject({ started: 4, finished: 4 });
  });

  it("keeps a node the stop reports lost, gone from the stop's answers, with its last counts", async () => {
    const running = {
      w1: ok(report("w1", counts({ running: 1, started: 1 }))),
      w2: ok(report("w2", counts({ running: 1, started: 1 }))),
    };
    const done = { w1: ok(report("w1", counts({ started: 1, finished: 1 }))) };
    const engine = new ScriptedEngine([running, done], { stopExtra: { lost_nodes: ["w2"] } });
    const svc = testService({ engine, scenariosDir: FIXTURES });
    onTestFinished(svc.cleanup);
    await svc.api.start({ scenario: "lifecycle", users: 2 });
    await svc.api.status();
    const { run } = await svc.api.stop();
    expect(run!.summary.nodes).toEqual({
      w1: { started: 1, finished: 1, crashed: 0, running: 0 },
      w2: { started: 1, finished: 0, crashed: 0, running: 1, lost: true },
    });
  });

  it("takes a lost node's last counts and exact re-deal from the master's stop entry", async () => {
    const running = {
      w1: ok(report("w1", counts({ running: 1, started: 1 }))),
      w2: ok(report("w2", counts({ running: 1, started: 1 }))),
    };
    // the master's LostNode (cluster/master/types.ts): counts the worker last reported after our last status
    const lostW2 = {
      ok: false as const,
      error: "down (no heartbeat)",
      lost: true,
      last: { started: 3, finished: 1, crashed: 0, removed: 0, running: 2, at_ms: 0 },
      redealt_to: { w1: 2 },
    };
    const done = { w1: ok(report("w1", counts({ started: 3, finished: 3 }))), w2: lostW2 };
    const engine = new ScriptedEngine([running, done]);
    const svc = testService({ engine, scenariosDir: FIXTURES });
    onTestFinished(svc.cleanup);
    await svc.api.start({ scenario: "lifecycle", users: 4 });
    await svc.api.status();
    const { run } = await svc.api.stop();
    expect(run!.summary.nodes!.w2).toEqual({
      started: 3,
      finished: 1,
      crashed: 0,
      running: 2,
      lost: true,
      redealt_to: { w1: 2 },
    });
  });

  it("ends a run still going when the node closes, so it is not left running", async () => {
    const { api, storePath } = local();
    const r = await api.start({ scenario: "lifecycle", users: 1, settings: { interarrival: 0 } });
    api.close();
    const store = RunStore.open(storePath, { readonly: true });
    try {
      expect(store.getRun(r.run_id).verdict).toBe("passed");
      expect(store.getRun(r.run_id).summary).toMatchObject({ problems: [{ kind: "ended_without_stop" }] });
    } finally {
      store.close();
    }
  });

  it("reads the config file's thresholds and names a malformed list", () => {
    const { dir, cleanup } = testService({ scenariosDir: FIXTURES, engine: new ScriptedEngine([]) });
    onTestFinished(cleanup);
    const env = (config: unknown) => {
      writeFileSync(join(dir, "config.json"), JSON.stringify(config));
      return { AMOC_CONFIG_FILE: join(dir, "config.json") };
    };
    expect(configThresholds(env({ thresholds: ["users.crashed==0"] }))).toMatchObject([
      { metric: "users.crashed", op: "==", value: 0 },
    ]);
    expect(() => configThresholds(env({ thresholds: "users.crashed==0" }))).toThrow(/thresholds/);
    expect(configThresholds(env({ variables: {} }))).toEqual([]);
  });
});
