import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, it } from "vitest";
import { expectViewsAgree, KNOWN_SAMPLES, viewArgs } from "../helpers/cross-view.js";
import { amoc } from "../helpers/proc.js";

describe("one pipeline: every view of a run gives the same numbers (bin/amoc run, local)", () => {
  const dir = mkdtempSync(join(tmpdir(), "amoc-views-"));
  const env = { AMOC_DATA_DIR: dir };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("summary, --json, thresholds, the HTML report, JUnit and the run store agree on count, min, max, p50 and p99", async () => {
    const r = await amoc(
      ["run", KNOWN_SAMPLES, "--users", "100", "--interarrival", "0", "--repeat", "1", ...viewArgs(dir)],
      { env, timeoutMs: 90_000 },
    );
    await expectViewsAgree(r, dir, env);
  });
});
