import { describe, expect, it } from "vitest";
import { runLine } from "../../web/src/run-line.js";

describe("the dashboard's run line", () => {
  it("says there is no run from a status without one", () => {
    expect(runLine({ mode: "dist", run: null, users: { running: 0, started: 0, crashed: 0 } })).toBe("dist · no run");
  });

  it("names the running scenario, its version and its users from a status", () => {
    const line = runLine({
      mode: "local",
      run: { scenario: "muc_echo", state: "running", version: "0123456789abcdef" },
      users: { running: 10, started: 12, crashed: 2 },
    });
    expect(line).toBe("local · muc_echo @01234567 · running · running 10 · started 12 · crashed 2");
  });

  it("shows a failed status instead of the run", () => {
    expect(runLine({ mode: "dist", run: null, users: { running: 0, started: 0, crashed: 0 } }, "timeout")).toBe(
      "status failed: timeout",
    );
  });
});
