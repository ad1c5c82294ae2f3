/** JUnit XML of a run's thresholds: one test case per threshold, for CI systems. */
import type { ThresholdResult } from "./thresholds.js";

const esc = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** The XML document: a suite named after the scenario, one `<testcase>` per threshold, `<failure>` on a breach. */
export function junitXml(o: {
  scenario: string;
  runId: string;
  durationS: number;
  results: readonly ThresholdResult[];
}): string {
  const failures = o.results.filter((r) => !r.ok).length;
  const cases = o.results.map((r) => {
    const head = `    <testcase classname="amoc.thresholds.${esc(o.scenario)}" name="${esc(r.expr)}" time="0">`;
    if (r.ok) return `${head}\n      <system-out>${esc(r.message)}</system-out>\n    </testcase>`;
    return `${head}\n      <failure message="${esc(r.message)}" type="threshold">${esc(`${r.expr}: ${r.message} (run ${o.runId})`)}</failure>\n    </testcase>`;
  });
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="amoc" tests="${o.results.length}" failures="${failures}" time="${o.durationS.toFixed(3)}">`,
    `  <testsuite name="amoc thresholds: ${esc(o.scenario)} (run ${esc(o.runId)})" tests="${o.results.length}" failures="${failures}" errors="0" time="${o.durationS.toFixed(3)}">`,
    ...cases,
    `  </testsuite>`,
    `</testsuites>`,
    "",
  ].join("\n");
}
