/** The capacity search's result in words, as `bin/amoc capacity` and the console print it. */
import type { CapacityResult } from "./search.js";

/** The search's result in words: capacity, what broke and by how much, and the generator's health per step. */
export function formatCapacity(r: CapacityResult): string {
  const unit = r.by === "rate" ? "users/s" : "users";
  const lines = r.steps.map(
    (s) =>
      `step ${String(s.users).padStart(7)} ${unit}  ${s.ok ? "ok      " : "FAILED  "}` +
      s.slos.map((x) => `${x.expr}: ${x.actual ?? "-"}`).join("  ") +
      `  | generator: lag p99 ${s.health.lagP99MaxMs ?? "-"} ms, CPU ${s.health.cpuMaxPct ?? "-"} %${s.health.limited ? `, LIMITED: ${s.health.limited}` : ""}`,
  );
  if (r.generatorLimited)
    lines.push(
      `capacity: not measured: the failing step was limited by the generator (${r.generatorLimited}); the server held at least ${r.capacity} ${unit}`,
    );
  else lines.push(`capacity: ${r.capacity} ${unit}${r.broke || r.stopped ? "" : " (every step passed up to --max)"}`);
  if (r.broke) {
    const by =
      r.broke.actual !== null && r.broke.limit
        ? ` (${Math.round((r.broke.actual / r.broke.limit) * 100)} % of the limit)`
        : "";
    lines.push(`broke first: ${r.broke.slo}: ${r.broke.message}${by}`);
  }
  if (r.stopped) lines.push("the search was stopped before its end: the capacity is a lower bound");
  lines.push(`run ${r.run_id}`);
  return lines.join("\n");
}
