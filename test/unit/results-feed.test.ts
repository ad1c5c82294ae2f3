import { describe, expect, it } from "vitest";
import { encodeResults } from "../../src/cluster/protocol.js";
import { ResultsFeed } from "../../src/cluster/results-feed.js";
import { Subjects } from "../../src/cluster/subjects.js";
import type { EncodedInterval } from "../../src/results/interval.js";
import { FakeClock } from "../helpers/fake-clock.js";

/** A feed on a fake bus whose one subscriber is driven by hand, with the master's current run set by the test. */
function feed() {
  let deliver: (data: string) => void = () => {};
  let current: { runId: string; running: boolean } | null = null;
  const clock = new FakeClock(0);
  const f = new ResultsFeed(clock);
  const warned: string[] = [];
  f.connect({
    log: { warn: (o: { err: string }) => warned.push(o.err) } as never,
    bus: { subscribe: (_s, h) => ((deliver = (d) => h(d, undefined)), () => {}) },
    subjects: new Subjects("t"),
    workers: () => [{ name: "w1", runId: current?.runId ?? null }],
    onMembershipChange: () => {},
    currentRun: () => current,
  });
  const got: Array<{ t: number }> = [];
  f.follow({ addInterval: (i) => got.push({ t: i.t }), setNodes: () => {} });
  const interval = (t: number, node = "w1"): string =>
    JSON.stringify({ v: 1, node, t, ms: 1000, c: {}, g: {}, h: {} } satisfies EncodedInterval);
  return {
    send: (runId: string, t: number, final = false) => deliver(encodeResults("w1", runId, interval(t), final)),
    raw: deliver,
    interval,
    setRun: (r: typeof current) => (current = r),
    got,
    feed: f,
    clock,
    warned,
  };
}

describe("the master's results feed", () => {
  it("a late interval of the previous run does not bind a new recording: it follows the run that is running", () => {
    const f = feed();
    f.setRun({ runId: "r1", running: false });
    f.send("r1", 1); // the last partial interval of a run that ended
    f.setRun({ runId: "r2", running: true });
    f.send("r1", 2); // late again
    f.send("r2", 3);
    f.send("r1", 4);
    f.send("r2", 5);
    expect(f.got).toEqual([{ t: 3 }, { t: 5 }]);
  });

  it("a recording that started with a run keeps its last intervals after the run was stopped", () => {
    const f = feed();
    f.setRun({ runId: "r1", running: true });
    f.send("r1", 1);
    f.setRun({ runId: "r1", running: false });
    f.send("r1", 2);
    expect(f.got).toEqual([{ t: 1 }, { t: 2 }]);
  });

  it("rejects a results message of another protocol version, a malformed one, and one whose interval is another node's", () => {
    const f = feed();
    f.setRun({ runId: "r1", running: true });
    f.raw(JSON.stringify({ v: 2, type: "results", from: "w1", runId: "r1", interval: JSON.parse(f.interval(1)) }));
    f.raw(JSON.stringify({ v: 1, type: "results", from: "w1", runId: "r1", interval: { v: 1 } }));
    f.raw(encodeResults("w1", "r1", f.interval(3, "w2"), false));
    f.send("r1", 4);
    expect(f.got).toEqual([{ t: 4 }]);
    expect(f.warned).toEqual([
      expect.stringMatching(/unsupported protocol version 2/),
      expect.stringMatching(/results: interval node must be a non-empty string|results: interval/),
      "interval of another node than its sender",
    ]);
  });

  it("tells a waiter once a worker's final interval was delivered, at once when it already was, and false after the bound", async () => {
    const f = feed();
    f.setRun({ runId: "r1", running: true });
    const early = f.feed.whenFinal("r1", "w1", 1000);
    f.send("r1", 1);
    f.send("r1", 2, true);
    await expect(early).resolves.toBe(true);
    expect(f.got).toEqual([{ t: 1 }, { t: 2 }]); // delivered before the waiter heard of it
    await expect(f.feed.whenFinal("r1", "w1", 1000)).resolves.toBe(true);
    const never = f.feed.whenFinal("r1", "w2", 1000);
    await f.clock.advance(1000);
    await expect(never).resolves.toBe(false);
  });
});
