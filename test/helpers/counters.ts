/** Counter totals of a node's telemetry, for tests that wait on a count while a run goes on. */
import type { Telemetry } from "../../src/telemetry.js";

/** Sums every `count` metric event from now on; `close()` stops listening. */
export function countersOf(telemetry: Telemetry): { counter(name: string): number; close(): void } {
  const totals = new Map<string, number>();
  const off = telemetry.on("metric", (m) => {
    if (m.kind === "count") totals.set(m.name, (totals.get(m.name) ?? 0) + m.value);
  });
  return { counter: (name) => totals.get(name) ?? 0, close: off };
}
