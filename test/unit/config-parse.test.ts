import { describe, expect, it } from "vitest";
import { loadNodeSettings } from "../../src/config/load.js";
import { NODE_NAME_RE, SCENARIO_NAME_RE, UPLOAD_NAME_RE } from "../../src/config/names.js";
import { parseDurationMs } from "../../src/config/parse.js";
import { parseStages } from "../../src/config/shapes.js";
import { ConfigError } from "../../src/errors.js";

describe("the one duration rule", () => {
  it("reads ms, s, m and h, and a bare number as ms", () => {
    expect(["50", "250ms", "2s", "1.5m", "1h", " 3 s "].map((v) => parseDurationMs(v))).toEqual([
      50, 250, 2000, 90_000, 3_600_000, 3000,
    ]);
    expect(parseDurationMs(12.5)).toBe(12.5);
  });
  it("reads a bare number in seconds when the caller counts seconds", () => {
    expect(parseDurationMs("30", "s")).toBe(30_000);
    expect(parseDurationMs(2, "s")).toBe(2000);
    expect(parseDurationMs("250ms", "s")).toBe(250);
  });
  it("refuses negative, unitless garbage and unknown units", () => {
    for (const v of ["-1", "abc", "2d", "", "1e3"]) expect(parseDurationMs(v), v).toBeUndefined();
    expect(parseDurationMs(-1)).toBeUndefined();
    expect(parseDurationMs(Infinity)).toBeUndefined();
  });
  it("settings and load-shape stages read durations alike", () => {
    const s = loadNodeSettings({ env: { AMOC_INTERARRIVAL: "1.5m" } });
    expect(s.interarrival).toBe(90_000);
    expect(parseStages([{ duration: "1.5m", target: 1 }])[0]?.durationMs).toBe(90_000);
  });
});

describe("the name rules", () => {
  it("a node name is 1 to 64 letters, digits, '_' and '-', and the settings refuse a longer one", () => {
    expect(NODE_NAME_RE.test("worker-1_a")).toBe(true);
    expect(NODE_NAME_RE.test("a".repeat(65))).toBe(false);
    expect(() => loadNodeSettings({ env: { AMOC_NODE_NAME: "a".repeat(65) } })).toThrow(ConfigError);
  });
  it("the default node name is a valid one", () => {
    expect(NODE_NAME_RE.test(loadNodeSettings({ env: {} }).node_name)).toBe(true);
  });
  it("a scenario name is never a path, and an upload's name also has no '-'", () => {
    for (const n of ["../x", "a.b", "", "__proto__", "a".repeat(65)]) expect(SCENARIO_NAME_RE.test(n), n).toBe(false);
    expect(SCENARIO_NAME_RE.test("one-to-one")).toBe(true);
    expect(UPLOAD_NAME_RE.test("one-to-one")).toBe(false);
    expect(UPLOAD_NAME_RE.test("one_to_one")).toBe(true);
  });
});
