import { describe, expect, it } from "vitest";
import type { Frame } from "../../src/api/web/wire.js";
import { serverChartDefs } from "../../web/src/server-charts.js";

/** A frame with `running` users and, when given, the server's sampling. */
function frame(running: number, server?: Record<string, number>): Frame {
  return { users: { running }, ...(server ? { server } : {}) } as unknown as Frame;
}

describe("the dashboard's server-under-test charts", () => {
  it("draw nothing for a run that samples no server", () => {
    expect(serverChartDefs([frame(10), frame(20)])).toEqual([]);
  });

  it("draw the server's sessions beside our users running, its CPU and its memory in MB", () => {
    const frames = [
      frame(10),
      frame(40, { "sut.sessions": 39, "sut.process_cpu": 0.5, "sut.process_rss_bytes": 64 * 1024 * 1024 }),
    ];
    const defs = serverChartDefs(frames);
    expect(defs.map((d) => d.id)).toEqual(["server-sessions", "server-cpu", "server-memory"]);
    const read = (id: string) =>
      defs
        .find((d) => d.id === id)!
        .series()
        .map((s) => [s.label, frames.map((f) => s.get(f))]);
    expect(read("server-sessions")).toEqual([
      ["our users running", [10, 40]],
      ["server sessions", [null, 39]],
    ]);
    expect(read("server-cpu")).toEqual([["server CPU", [null, 0.5]]]);
    expect(read("server-memory")).toEqual([["server RSS", [null, 64]]]);
  });
});
