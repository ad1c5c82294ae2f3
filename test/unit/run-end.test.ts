import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { removeAnswer } from "../../src/api/console/local-binding.js";
import { formatRunEnd } from "../../src/api/format.js";
import type { RunEnd, RunSummary } from "../../src/node/node-api.js";
import { recordRun } from "../../src/results/recorder.js";
import { verdictOf } from "../../src/results/recording.js";

describe("how a run ends", () => {
  it("a run stopped by Ctrl+C or SIGTERM is interrupted, not failed, and keeps its signal's exit code", () => {
    expect(verdictOf(130, [])).toEqual({ verdict: "interrupted", exitCode: 130 });
    expect(verdictOf(143, [])).toEqual({ verdict: "interrupted", exitCode: 143 });
    expect(verdictOf(1, [])).toEqual({ verdict: "failed", exitCode: 1 });
  });

  it("says which signal interrupted the run and its exit code", () => {
    const end: RunEnd = {
      run_id: "r1",
      verdict: "interrupted",
      exit_code: 130,
      thresholds: [],
      summary: {} as RunSummary,
    };
    expect(formatRunEnd(end)).toBe(
      "run r1 recorded: interrupted by SIGINT (Ctrl+C) (exit 130): the summary covers the run until then",
    );
  });

  it("JUnit's time is the run's real duration, not a whole number of intervals", () => {
    const dir = mkdtempSync(join(tmpdir(), "amoc-junit-"));
    try {
      let t = 1_000_000;
      const junitPath = join(dir, "junit.xml");
      const rec = recordRun({
        node: "n1",
        storePath: join(dir, "runs.sqlite"),
        intervalMs: 5000,
        scenario: "s",
        settings: {},
        users: 1,
        junitPath,
        now: () => t,
      });
      t += 3400;
      rec.end({ summary: {}, exitCode: 0 });
      expect(readFileSync(junitPath, "utf8")).toMatch(/<testsuites [^>]*time="3\.400"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the console's remove answer", () => {
  it("says the selected users are being removed, as status counts them, not already removed", () => {
    expect(removeAnswer({ requested: 3, removed: 3, force: false })).toEqual({
      requested: 3,
      removing: 3,
      force: false,
    });
    expect(removeAnswer({ requested: 5, removed: 2, force: true })).toMatchObject({
      removing: 2,
      note: "only 2 running users not already being removed could be selected",
    });
  });
});
