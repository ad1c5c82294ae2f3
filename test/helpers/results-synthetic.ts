/** A synthetic recorded run for report tests and benchmarks: N nodes, a user ramp, messages, crashes, run events. */
import { IntervalAggregator } from "../../src/results/aggregator.js";
import { recordRun, type RecordedEnd } from "../../src/results/recorder.js";
import { parseThresholds } from "../../src/results/thresholds.js";
import { Telemetry } from "../../src/telemetry.js";

/** What to make. */
export interface SyntheticOptions {
  storePath: string;
  nodes: number;
  seconds: number;
  usersPerNode: number;
  /** Messages per second per node once every user runs. */
  messagesPerS?: number;
  thresholds?: string[];
  reportPath?: string;
  junitPath?: string;
  /** A node that stops reporting at this second (a worker that died). */
  dieAtS?: { node: number; s: number };
}

/** Records a synthetic run on a fake clock and ends it; returns what the end produced. */
export function syntheticRun(o: SyntheticOptions): RecordedEnd {
  const clock = { now: Date.UTC(2026, 10, 29, 12, 0, 0) };
  const names = Array.from({ length: o.nodes }, (_, i) => `worker${i + 1}`);
  const rec = recordRun({
    node: "master",
    storePath: o.storePath,
    intervalMs: 1000,
    scenario: "one_to_one",
    settings: { interarrival: 10, repeat_num: 1 },
    users: o.nodes * o.usersPerNode,
    nodes: names,
    thresholds: parseThresholds(o.thresholds ?? []),
    reportPath: o.reportPath,
    junitPath: o.junitPath,
    now: () => clock.now,
  });
  const nodes = names.map((node) => {
    const telemetry = new Telemetry();
    const agg = new IntervalAggregator({
      telemetry,
      node,
      intervalMs: 1000,
      manual: true,
      now: () => clock.now,
      onInterval: (i) => rec.addInterval(i),
    });
    return { node, telemetry, agg, running: 0 };
  });
  rec.addEvent({
    t: clock.now,
    kind: "do",
    node: "master",
    data: { scenario: "one_to_one", users: o.nodes * o.usersPerNode },
  });
  let seed = 7;
  const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const rampS = Math.max(1, Math.floor(o.seconds / 3));
  const steps = 10;
  for (let s = 0; s < o.seconds; s++) {
    if (s === Math.floor(o.seconds / 2))
      rec.addEvent({ t: clock.now, kind: "add", node: "master", data: { users: 10 } });
    for (let k = 0; k < steps; k++) {
      clock.now += 1000 / steps;
      nodes.forEach((n, ni) => {
        if (o.dieAtS && o.dieAtS.node === ni && s >= o.dieAtS.s) return;
        n.agg.tick();
        const want = Math.min(o.usersPerNode, Math.ceil(((s + 1) / rampS) * o.usersPerNode));
        while (n.running < want && s < o.seconds - 2) {
          n.running++;
          n.telemetry.emit("user.started", { id: n.running, lagMs: rand() * 2 });
          n.telemetry.emit("metric", { kind: "timing", name: "xmpp.connection", value: 5 + rand() ** 4 * 200 });
        }
        if (s >= o.seconds - 2 && n.running > 0) {
          n.telemetry.emit("user.stopped", { id: n.running, reason: "finished" });
          n.running--;
        }
        const msgs = Math.round(((o.messagesPerS ?? 100) / steps) * (n.running / o.usersPerNode));
        for (let m = 0; m < msgs; m++) {
          n.telemetry.emit("metric", { kind: "count", name: "xmpp.messages_sent", value: 1 });
          n.telemetry.emit("metric", { kind: "count", name: "xmpp.messages_received", value: 1 });
          n.telemetry.emit("metric", {
            kind: "timing",
            name: "xmpp.message_ttd",
            value: 0.3 + rand() ** 6 * 40 + (s > o.seconds / 2 ? 2 : 0),
          });
        }
        if (rand() < 0.01)
          n.telemetry.emit("user.crashed", {
            id: 1,
            phase: rand() < 0.5 ? "connect" : "start",
            reason: "start:error: synthetic failure",
            message: "synthetic failure",
          });
      });
    }
  }
  for (const n of nodes) {
    if (o.dieAtS?.node === nodes.indexOf(n)) continue;
    n.agg.close();
  }
  return rec.end({
    summary: {
      users: {
        started: o.nodes * o.usersPerNode,
        finished: o.nodes * o.usersPerNode,
        crashed: 0,
        removed: 0,
        running: 0,
      },
      errors: [{ phase: "connect", message: "synthetic failure", count: 3 }],
    },
    exitCode: 0,
  });
}
