/** `amoc runs compare A B` of two capacity searches: the capacities, then each SLO's value per level in both. */
import type { CapacityComparison } from "../../results/compare.js";

const num = (x: number | null) => (x === null ? "-" : String(Math.round(x * 100) / 100));
const pct = (x: number | null) => (x === null ? "" : `${x > 0 ? "+" : ""}${x.toFixed(1)}%`);

export function capacityCompareText(a: string, b: string, c: CapacityComparison): string {
  const rows: string[][] = [["LEVEL", "SLO", a, b, "CHANGE", ""]];
  for (const s of c.steps)
    for (const x of s.slos)
      rows.push([
        String(s.users),
        x.slo,
        `${num(x.a)}${x.okA === false ? " FAILED" : ""}`,
        `${num(x.b)}${x.okB === false ? " FAILED" : ""}`,
        pct(x.changePct),
        "",
      ]);
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const text = rows
    .map((r) =>
      r
        .map((v, i) => v.padEnd(w[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
  return (
    `capacity  A ${c.capacity.a}  B ${c.capacity.b}  ${pct(c.capacity.changePct)}` +
    `${c.capacity.regression ? "  ! regression: B holds less" : ""}\n\n${text}\n`
  );
}
