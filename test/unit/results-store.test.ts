import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { EncodedInterval } from "../../src/results/interval.js";
import { recordRun } from "../../src/results/recorder.js";
import { readRunResults } from "../../src/results/run-results.js";
import { RunStore } from "../../src/results/store.js";
import { parseThresholds, evaluateThresholds } from "../../src/results/thresholds.js";

const dirs: string[] = [];
function tmpStore(): string {
  const d = mkdtempSync(join(tmpdir(), "amoc-store-"));
  dirs.push(d);
  return join(d, "runs.sqlite");
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const T0 = 1_800_000_000_000;
function interval(node: string, k: number, sent: number): EncodedInterval {
  return {
    v: 1,
    node,
    t: T0 + k * 1000,
    ms: 1000,
    c: { "xmpp.messages_sent": sent },
    g: { "users.running": k },
    h: {},
  };
}

describe("run store", () => {
  it("keeps a run, its intervals, events and thresholds, and reads them back", () => {
    const path = tmpStore();
    const s = RunStore.open(path);
    const id = s.createRun({
      scenario: "one_to_one",
      sourceHash: "abc",
      settings: { interarrival: 10, repeat_num: Infinity },
      nodes: ["a", "b"],
      users: 20,
      intervalMs: 1000,
      startedAt: T0,
    });
    for (let k = 0; k < 3; k++) for (const n of ["a", "b"]) s.addInterval(id, interval(n, k, 10 + k));
    s.addEvent(id, { t: T0 + 5, kind: "do", node: "a", data: { users: 20 } });
    const th = evaluateThresholds(parseThresholds(["xmpp.messages_sent.count>=66", "users.crashed==0"]), {
      "xmpp.messages_sent": { kind: "counter", count: 66, rate: 22 },
    });
    s.finishRun(id, { endedAt: T0 + 3000, summary: { users: { started: 20 } }, verdict: "passed", exitCode: 0 }, th);
    s.close();

    const r = RunStore.open(path, { readonly: true });
    const run = r.getRun(id.slice(0, 17));
    expect(run).toMatchObject({
      id,
      scenario: "one_to_one",
      sourceHash: "abc",
      nodes: ["a", "b"],
      users: 20,
      verdict: "passed",
      exitCode: 0,
      endedAt: T0 + 3000,
    });
    expect(run.settings.repeat_num).toBe("Infinity");
    expect(r.getRun("last").id).toBe(id);
    const res = readRunResults(r, id);
    expect(res.intervals).toHaveLength(3);
    expect(res.table["xmpp.messages_sent"]).toMatchObject({ kind: "counter", count: 66 });
    expect(res.intervals[2]?.gauges["users.running"]).toBe(4);
    expect(res.events.map((e) => e.kind)).toEqual(["do"]);
    expect(res.thresholds.map((t) => [t.expr, t.ok])).toEqual([
      ["xmpp.messages_sent.count>=66", true],
      ["users.crashed==0", true],
    ]);
    expect(() => r.getRun("nope")).toThrow(/no run 'nope'/);
    r.close();
  });

  it("a reader opening the store while a writer is mid-run sees every interval committed so far", () => {
    const path = tmpStore();
    const w = RunStore.open(path);
    const id = w.createRun({ scenario: "s", settings: {}, nodes: ["a"], users: 1, intervalMs: 1000, startedAt: T0 });
    w.addInterval(id, interval("a", 0, 1));
    w.addInterval(id, interval("a", 1, 2));
    const r = RunStore.open(path, { readonly: true });
    expect(r.intervals(id)).toHaveLength(2);
    expect(r.getRun(id).verdict).toBe("running");
    w.addInterval(id, interval("a", 2, 3));
    expect(r.intervals(id)).toHaveLength(3);
    r.close();
    w.close();
  });

  it("a writer killed mid-run (SIGKILL) leaves the intervals it wrote readable, the run marked without an end", async () => {
    const path = tmpStore();
    const storeUrl = new URL("../../src/results/store.ts", import.meta.url).href;
    const script = `
      import { RunStore } from ${JSON.stringify(storeUrl)};
      const s = RunStore.open(${JSON.stringify(path)});
      const id = s.createRun({ scenario: "s", settings: {}, nodes: ["a"], users: 1, intervalMs: 1000, startedAt: ${T0} });
      for (let k = 0; k < 5; k++) s.addInterval(id, { v: 1, node: "a", t: ${T0} + k * 1000, ms: 1000, c: { n: k }, g: {}, h: {} });
      process.stdout.write(id + "\\n");
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const id = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (b: Buffer) => {
        out += b.toString();
        if (out.includes("\n")) resolve(out.trim());
      });
      child.on("exit", (code) => reject(new Error(`writer exited early (${code})`)));
    });
    const dead = new Promise((r) => child.on("exit", r));
    child.kill("SIGKILL");
    await dead;
    const r = RunStore.open(path, { readonly: true });
    const run = r.getRun(id);
    expect(run.endedAt).toBeNull();
    expect(r.intervals(id).map((i) => i.c.n)).toEqual([0, 1, 2, 3, 4]);
    r.close();
  });

  it("the recorder merges each time once every node reported; a reader mid-run also sees the times not merged yet", () => {
    const path = tmpStore();
    const rec = recordRun({
      node: "master",
      storePath: path,
      intervalMs: 1000,
      scenario: "s",
      settings: {},
      users: 3,
      nodes: ["a", "b", "c"],
      now: () => T0,
    });
    for (let k = 0; k < 6; k++)
      for (const n of ["a", "b", "c"]) if (!(n === "c" && k >= 3)) rec.addInterval(interval(n, k, 1));
    // c died after 3 intervals: times 0-2 are merged from 3 nodes, 3 is merged without c (2 intervals late), 4-5 wait
    const r = RunStore.open(path, { readonly: true });
    expect(r.mergedRows(rec.runId).map((m) => [m.t - T0, m.nodes.length])).toEqual([
      [0, 3],
      [1000, 3],
      [2000, 3],
      [3000, 2],
    ]);
    const res = readRunResults(r, rec.runId);
    expect(res.intervals.map((m) => m.t - T0)).toEqual([0, 1000, 2000, 3000, 4000, 5000]);
    expect(res.table["xmpp.messages_sent"]).toMatchObject({ count: 15 });
    expect(res.perNode.c).toMatchObject({ intervals: 3, lastT: T0 + 3000 });
    expect(res.perNode.a).toMatchObject({ intervals: 6, lastT: T0 + 6000 });
    r.close();
    const end = rec.end({ summary: {}, exitCode: 0 });
    const after = RunStore.open(path, { readonly: true });
    expect(after.mergedRows(end.runId)).toHaveLength(6);
    expect(readRunResults(after, end.runId).table["xmpp.messages_sent"]).toMatchObject({ count: 15 });
    after.close();
  });

  it("opening a missing store read-only says how to get one", () => {
    expect(() => RunStore.open(join(tmpdir(), "no-such-dir-amoc", "runs.sqlite"), { readonly: true })).toThrow(
      /cannot open the run store/,
    );
  });
});
