/** Console and REST runs are recorded: the Node API wrapper, thresholds from the config file and the start request. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { configThresholds, NodeRunRecorder, withRecording } from "../../src/api/run-recording-api.js";
import type { AmocNode } from "../../src/node/amoc-node.js";
import type { CommandResult, NodeApi, StartRequest } from "../../src/node/node-api.js";
import { RunStore } from "../../src/results/store.js";
import { RUN_STORE_FILE } from "../../src/results/store-types.js";
import { Telemetry } from "../../src/telemetry.js";
import { until } from "../helpers/wait.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A node with a data directory and, optionally, a config file holding `config`. */
function fakeNode(config?: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), "amoc-recapi-"));
  dirs.push(dir);
  const env: NodeJS.ProcessEnv = {};
  if (config) {
    env.AMOC_CONFIG_FILE = join(dir, "config.json");
    writeFileSync(env.AMOC_CONFIG_FILE, JSON.stringify(config));
  }
  const closers: Array<() => void> = [];
  const node = {
    settings: { node_name: "n1", data_dir: dir, results_interval: 50 },
    env,
    telemetry: new Telemetry(),
    log: { info: () => {}, warn: () => {} },
    onClose: (fn: () => void) => closers.push(fn),
  } as unknown as AmocNode;
  return { node, dir, close: () => closers.forEach((f) => f()) };
}

/** A local Node API whose start makes the node's users send messages. */
function fakeApi(node: AmocNode, calls: StartRequest[]): NodeApi {
  const result = (users: Record<string, number>): CommandResult => ({
    nodes: { n1: { ok: true, result: { users, settings: { interarrival: 10 } } } },
  });
  return {
    mode: "local",
    nodeName: "n1",
    async start(req: StartRequest) {
      calls.push(req);
      if (req.scenario === "broken") throw new Error("unknown scenario 'broken'");
      for (let i = 0; i < 20; i++)
        node.telemetry.emit("metric", { kind: "count", name: "xmpp.messages_sent", value: 1 });
      for (let i = 0; i < 20; i++)
        node.telemetry.emit("metric", { kind: "timing", name: "xmpp.message_ttd", value: 5 + i });
      return { users: 2, nodes: {} };
    },
    async stop() {
      return result({ running: 0, started: 2, finished: 2, crashed: 0, removed: 0 });
    },
    async status() {
      return { mode: "local", run: null, users: { running: 2 }, nodes: {} };
    },
  } as unknown as NodeApi;
}

describe("recording console and REST runs", () => {
  it("records a started and stopped run with the start request's and the config file's thresholds", async () => {
    const { node, dir } = fakeNode({ thresholds: ["xmpp.messages_sent.count>=20"] });
    const calls: StartRequest[] = [];
    const api = withRecording(fakeApi(node, calls), new NodeRunRecorder(node));
    await api.start({ scenario: "chat", users: 2, thresholds: ["xmpp.message_ttd.p99<1"] } as StartRequest);
    // the wrapped API never sees `thresholds`
    expect(calls[0]).toEqual({ scenario: "chat", users: 2 });
    let last: unknown = null;
    await until(
      () => {
        void api.status().then((s) => (last = (s as unknown as { last_interval: unknown }).last_interval));
        return last !== null;
      },
      5000,
      "last_interval in status",
    );
    expect(last).toMatchObject({
      rates: { "xmpp.messages_sent": expect.any(Number) },
      p99: { "xmpp.message_ttd": expect.any(Number) },
    });
    await api.stop();
    expect((await api.status()) as unknown).toMatchObject({ last_interval: null });
    const store = RunStore.open(join(dir, RUN_STORE_FILE), { readonly: true });
    try {
      const [run] = store.listRuns();
      expect(run).toMatchObject({ scenario: "chat", users: 2, verdict: "breached", exitCode: 3 });
      expect(store.thresholds(run!.id).map((t) => [t.expr, t.ok])).toEqual([
        ["xmpp.messages_sent.count>=20", true],
        ["xmpp.message_ttd.p99<1", false],
      ]);
      expect(run!.summary).toMatchObject({ users: { started: 2, finished: 2 } });
    } finally {
      store.close();
    }
  });

  it("refuses a bad threshold before starting anything, and keeps no run for a refused start", async () => {
    const { node, dir } = fakeNode();
    const calls: StartRequest[] = [];
    const api = withRecording(fakeApi(node, calls), new NodeRunRecorder(node));
    await expect(api.start({ scenario: "chat", thresholds: ["p99 below 5"] } as StartRequest)).rejects.toMatchObject({
      code: "USAGE",
    });
    expect(calls).toHaveLength(0);
    await expect(api.start({ scenario: "broken" })).rejects.toThrow(/unknown scenario/);
    const store = RunStore.open(join(dir, RUN_STORE_FILE), { readonly: true });
    try {
      expect(store.listRuns()).toEqual([]);
    } finally {
      store.close();
    }
  });

  it("ends a run still going when the node closes, so it is not left running", async () => {
    const { node, dir, close } = fakeNode();
    const api = withRecording(fakeApi(node, []), new NodeRunRecorder(node));
    await api.start({ scenario: "chat", users: 2 });
    close();
    const store = RunStore.open(join(dir, RUN_STORE_FILE), { readonly: true });
    try {
      expect(store.listRuns()[0]).toMatchObject({
        scenario: "chat",
        verdict: "passed",
        summary: { ended: "without a stop (the node closed)" },
      });
    } finally {
      store.close();
    }
  });

  it("reads the config file's thresholds and names a malformed list", () => {
    expect(configThresholds(fakeNode({ thresholds: ["users.crashed==0"] }).node.env)).toMatchObject([
      { metric: "users.crashed", op: "==", value: 0 },
    ]);
    expect(() => configThresholds(fakeNode({ thresholds: "users.crashed==0" }).node.env)).toThrow(/thresholds/);
    expect(configThresholds(fakeNode({ variables: {} }).node.env)).toEqual([]);
  });
});
