import { describe, expect, it } from "vitest";
import { ResultsFeed, encodeResultsMessage } from "../../src/cluster/results-feed.js";
import { Subjects } from "../../src/cluster/subjects.js";
import type { EncodedInterval } from "../../src/results/interval.js";

/** A feed on a fake bus whose one subscriber is driven by hand, with the master's current run set by the test. */
function feed() {
  let deliver: (data: string) => void = () => {};
  let current: { runId: string; running: boolean } | null = null;
  const f = new ResultsFeed();
  f.connect({
    bus: { subscribe: (_s, h) => ((deliver = (d) => h(d, undefined)), () => {}) },
    subjects: new Subjects("t"),
    workers: () => [{ name: "w1", runId: current?.runId ?? null }],
    onMembershipChange: () => {},
    currentRun: () => current,
  });
  const got: Array<{ t: number }> = [];
  f.follow({ addInterval: (i) => got.push({ t: i.t }), setNodes: () => {} });
  const interval = (t: number): string =>
    JSON.stringify({ v: 1, node: "w1", t, ms: 1000, c: {}, g: {}, h: {} } satisfies EncodedInterval);
  return {
    send: (runId: string, t: number) => deliver(encodeResultsMessage(runId, interval(t))),
    setRun: (r: typeof current) => (current = r),
    got,
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
});
