import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { EncodedInterval } from "../../src/results/interval.js";
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
  return { v: 1, node, t: T0 + k * 1000, ms: 1000, c: { "xmpp.messages_sent": sent }, g: { "users.running": k }, h: {} };
}

describe("run store", () => {
  it("keeps a run, its intervals, events and thresholds, and reads them back", () => {
    const path = tmpStore();
    const s = RunStore.open(path);
    const id = s.createRun({ scenario: "one_to_one", sourceHash: "abc", settings: { interarrival: 10, repeat_num: Infinity }, nodes: ["a", "b"], users: 20, intervalMs: 1000, startedAt: T0 });
    for (let k = 0; k < 3; k++) for (const n of ["a", "b"]) s.addInterval(id, interval(n, k, 10 + k));
    s.addEvent(id, { t: T0 + 5, kind: "do", node: "a", data: { users: 20 } });
    const th = evaluateThresholds(parseThresholds(["xmpp.messages_sent.count>=66", "users.crashed==0"]), { "xmpp.messages_sent": { kind: "counter", count: 66, rate: 22 } });
    s.finishRun(id, { endedAt: T0 + 3000, summary: { users: { started: 20 } }, verdict: "passed", exitCode: 0 }, th);
    s.close();

    const r = RunStore.open(path, { readonly: true });
    const run = r.getRun(id.slice(0, 17));
    expect(run).toMatchObject({ id, scenario: "one_to_one", sourceHash: "abc", nodes: ["a", "b"], users: 20, verdict: "passed", exitCode: 0, endedAt: T0 + 3000 });
    expect(run.settings.repeat_num).toBe("Infinity");
    expect(r.getRun("last").id).toBe(id);
    const res = readRunResults(r, id);
    expect(res.intervals).toHaveLength(3);
    expect(res.table["xmpp.messages_sent"]).toMatchObject({ kind: "counter", count: 66 });
    expect(res.intervals[2]?.gauges["users.running"]).toBe(4);
    expect(res.events.map((e) => e.kind)).toEqual(["do"]);
    expect(res.thresholds.map((t) => [t.expr, t.ok])).toEqual([["xmpp.messages_sent.count>=66", true], ["users.crashed==0", true]]);
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
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
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

  it("opening a missing store read-only says how to get one", () => {
    expect(() => RunStore.open(join(tmpdir(), "no-such-dir-amoc", "runs.sqlite"), { readonly: true })).toThrow(/cannot open the run store/);
  });
});
