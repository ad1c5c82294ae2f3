import { describe, expect, it } from "vitest";
import { helpText } from "../../src/api/commands/help.js";
import { defaultRepeat, parseRunArgs } from "../../src/api/run/options.js";

describe("bin/amoc help", () => {
  it("lists amoc run's results flags and --log", () => {
    const text = helpText();
    for (const flag of ["--threshold", "--report", "--junit", "--abort-on-fail", "--log json"])
      expect(text).toContain(flag);
    expect(text).toMatch(/AMOC_LOG_FORMAT +.*\(default "file"\)/);
  });

  it("does not promise a REST API on port 4000 when nothing is served without AMOC_API_PORT", () => {
    const line = helpText()
      .split("\n")
      .find((l) => l.trim().startsWith("AMOC_API_PORT "));
    expect(line).toMatch(/only when AMOC_API_PORT is set/);
    expect(line).toMatch(/\(default unset: no REST API/);
    expect(line).not.toMatch(/\(default 4000\)/);
  });
});

describe("amoc run's repeat default", () => {
  it("runs each user once when the run has no --duration, no load shape and no repeat_num given", () => {
    const o = defaultRepeat(parseRunArgs(["dummy", "--users", "2"]), false);
    expect(o.settings.repeat_num).toBe(1);
    expect(o.repeatDefaulted).toBe(true);
  });

  it("keeps repeat_num (infinity) when the run ends by itself or repeat_num is given", () => {
    expect(defaultRepeat(parseRunArgs(["dummy", "--users", "2", "--duration", "5"]), false).settings).toEqual({});
    const shaped = parseRunArgs(["dummy", "--stages", '[{"duration":"1s","target":2}]']);
    expect(defaultRepeat(shaped, false).settings.repeat_num).toBeUndefined();
    expect(defaultRepeat(parseRunArgs(["dummy", "--users", "2"]), true).settings).toEqual({});
    const flag = defaultRepeat(parseRunArgs(["dummy", "--users", "2", "--repeat", "infinity"]), false);
    expect(flag.settings.repeat_num).toBe("infinity");
    expect(flag.repeatDefaulted).toBeUndefined();
  });

  it("takes --log json as the log format", () => {
    expect(parseRunArgs(["dummy", "--users", "1", "--log", "json"]).logFormat).toBe("json");
  });
});
