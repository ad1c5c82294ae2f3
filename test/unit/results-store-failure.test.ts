/** A run store that fails mid-run (a real SQLite error from the real engine) costs results, never the run. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import type Database from "better-sqlite3";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { recordRun } from "../../src/results/recorder.js";
import { RunStore } from "../../src/results/store.js";
import { describeStoreLoss } from "../../src/results/store-loss.js";
import { Telemetry } from "../../src/telemetry.js";
import { until } from "../helpers/wait.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "amoc-store-fail-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Makes the store's own connection refuse writes: SQLite answers SQLITE_READONLY, as for a read-only file (which
 * root would not get from chmod). */
function makeReadOnly(store: RunStore): void {
  (store as unknown as { db: Database.Database }).db.pragma("query_only = 1");
}

function warnLines(): { log: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split("\n").filter(Boolean))
        lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: "warn" }, sink), lines };
}

describe("a run store that stops accepting writes mid-run", () => {
  it("costs the intervals it could not write, counted and reported at the end, and the run goes on", () => {
    const telemetry = new Telemetry();
    let t = 1_000_000;
    let store: RunStore | undefined;
    const { log, lines } = warnLines();
    const path = join(dir, "runs.sqlite");
    const rec = recordRun({
      telemetry,
      node: "n1",
      storePath: path,
      intervalMs: 1000,
      scenario: "s",
      settings: {},
      users: 1,
      log,
      now: () => t,
      manualTicks: true,
      openStore: (p) => (store = RunStore.open(p)),
    });
    telemetry.emit("metric", { kind: "count", name: "xmpp.messages_sent", value: 5 });
    t += 1000;
    rec.tick();
    makeReadOnly(store!);
    for (let k = 0; k < 3; k++) {
      telemetry.emit("metric", { kind: "count", name: "xmpp.messages_sent", value: 7 });
      t += 1000;
      expect(() => rec.tick()).not.toThrow();
    }
    // the live view went on with every interval, written or not
    expect(rec.lastInterval()?.rates["xmpp.messages_sent"]).toBe(7);
    expect(rec.storeLoss()).toMatchObject({
      intervals: 3,
      merged: 3,
      firstError: expect.stringMatching(/^SQLITE_READONLY: /),
    });
    const end = rec.end({ summary: {}, exitCode: 0 });
    expect(end.verdict).toBe("passed");
    expect(end.storeLoss).toMatchObject({ intervals: 4, merged: 4, end: 1 }); // the partial last interval, the end
    expect(describeStoreLoss(end.storeLoss!)).toMatch(
      /^run store: 4 intervals, 4 merged intervals, 1 end-of-run write not written \(SQLITE_READONLY: attempt to write a readonly database\)$/m,
    );
    // one warning per 10 s of the clock, the rest counted in it
    expect(lines.filter((l) => l.msg === "run_store_write_failed")).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      run: end.runId,
      write: "intervals",
      err: expect.stringContaining("SQLITE_READONLY"),
    });
    // what was written before the failure is there; the run's end is not, and nothing claims it is
    const ro = RunStore.open(path, { readonly: true });
    try {
      expect(ro.intervals(end.runId)).toHaveLength(1);
      expect(ro.getRun(end.runId).verdict).toBe("running");
    } finally {
      ro.close();
    }
  });

  it("does not kill the process from the aggregator's timer", async () => {
    const telemetry = new Telemetry();
    let store: RunStore | undefined;
    const rec = recordRun({
      telemetry,
      node: "n1",
      storePath: join(dir, "runs.sqlite"),
      intervalMs: 20,
      scenario: "s",
      settings: {},
      users: 1,
      openStore: (p) => (store = RunStore.open(p)),
    });
    makeReadOnly(store!);
    // the real timer fires and fails to write; an error escaping it would fail this test as an uncaught exception
    await until(() => (rec.storeLoss()?.intervals ?? 0) >= 3, 5000, "3 intervals lost from the timer");
    telemetry.emit("metric", { kind: "count", name: "xmpp.messages_sent", value: 1 });
    await until(
      () => rec.lastInterval()?.rates["xmpp.messages_sent"] !== undefined,
      5000,
      "a later interval still aggregated",
    );
    expect(rec.end({ summary: {}, exitCode: 0 }).storeLoss?.firstError).toMatch(/^SQLITE_READONLY/);
  });

  it("a run whose store works reports no loss", () => {
    const rec = recordRun({
      telemetry: new Telemetry(),
      node: "n1",
      storePath: join(dir, "runs.sqlite"),
      intervalMs: 1000,
      scenario: "s",
      settings: {},
      users: 1,
      manualTicks: true,
    });
    const end = rec.end({ summary: {}, exitCode: 0 });
    expect(end.storeLoss).toBeUndefined();
  });
});
