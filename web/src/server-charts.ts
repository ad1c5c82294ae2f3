/**
 * The server under test beside the load (frames carry its last sampling as `server` when the run samples one): its
 * sessions against our users online, its CPU against our users online, and its memory. The figures come from the
 * run's sampler (src/sut/), the same samplings the report draws.
 */
import type { Frame } from "../../src/api/web/wire.js";
import type { ChartDef } from "./chart-def.js";

const MB = 1024 * 1024;

/** The charts of the server's figures the kept frames carry; none when the run samples no server. */
export function serverChartDefs(frames: readonly Frame[]): ChartDef[] {
  const has = (name: string) => frames.some((f) => f.server?.[name] !== undefined);
  const value =
    (name: string, scale = 1) =>
    (f: Frame) => {
      const v = f.server?.[name];
      return v === undefined ? null : v / scale;
    };
  const users = { label: "our users running", get: (f: Frame) => f.users.running };
  const defs: ChartDef[] = [];
  if (has("sut.sessions"))
    defs.push({
      id: "server-sessions",
      title: "server sessions vs our users running",
      unit: "sessions",
      spanGaps: true,
      series: () => [users, { label: "server sessions", get: value("sut.sessions") }],
    });
  if (has("sut.process_cpu"))
    defs.push({
      id: "server-cpu",
      title: "server CPU, cores",
      unit: "cores",
      spanGaps: true,
      series: () => [{ label: "server CPU", get: value("sut.process_cpu") }],
    });
  if (has("sut.process_rss_bytes"))
    defs.push({
      id: "server-memory",
      title: "server memory (RSS), MB",
      unit: "MB",
      spanGaps: true,
      series: () => [{ label: "server RSS", get: value("sut.process_rss_bytes", MB) }],
    });
  return defs;
}
