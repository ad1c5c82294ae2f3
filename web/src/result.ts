/**
 * The result of a control action: its status line, the error with its hint, each node's answer, the problems of a
 * refused start next to their inputs, and how a stopped run ended (verdict, exit code, each threshold).
 */
import type { Answer } from "./http.js";
import { $, fill, h } from "./dom.js";
import type { RunEndRow } from "../../src/api/web/wire.js";

/** A problem as the start form shows it: a variable's (check) or a body path's (400 from the start route). */
interface Problem {
  key?: string;
  path?: string;
  message: string;
}

/** Shows one action's result in the control tab. */
export function showResult(what: string, r: Answer): void {
  const box = $("#result");
  const b = r.body as {
    nodes?: Record<string, { ok: boolean; result?: unknown; error?: string }>;
    message?: string;
    hint?: string;
    error?: string;
    problems?: Problem[];
    users?: number;
    run?: RunEndRow;
  };
  const rows = Object.entries(b.nodes ?? {}).map(([node, x]) =>
    h(
      "tr",
      {},
      h("td", {}, node),
      h("td", { class: x.ok ? "ok" : "err" }, x.ok ? "ok" : "failed"),
      h("td", {}, x.ok ? JSON.stringify(x.result) : (x.error ?? "")),
    ),
  );
  for (const p of b.problems ?? []) {
    const key = p.key ?? p.path?.split("/").pop();
    const slot = key ? document.querySelector(`[data-var-error="${key}"]`) : null;
    if (slot) slot.textContent = p.message;
  }
  fill(
    box,
    h(
      "div",
      { class: r.ok ? "ok" : "err", id: "result-status" },
      `${what}: ${r.ok ? "ok" : `${r.status} ${b.error ?? ""}`}${b.users !== undefined ? ` · users ${b.users}` : ""}`,
    ),
    !r.ok ? h("div", {}, b.message ?? "", b.hint ? h("div", { class: "hint" }, b.hint) : null) : null,
    b.run ? runEnd(b.run) : null,
    rows.length
      ? h(
          "table",
          { class: "grid", id: "result-nodes" },
          h("thead", {}, h("tr", {}, h("th", {}, "node"), h("th", {}, ""), h("th", {}, "result"))),
          h("tbody", {}, ...rows),
        )
      : null,
  );
}

/** How the stopped run ended: its verdict and exit code, each threshold judged (the History tab keeps it). */
function runEnd(run: RunEndRow): HTMLElement {
  return h(
    "div",
    { id: "result-run", class: run.verdict === "passed" ? "ok" : "err" },
    `run ${run.run_id}: ${run.verdict} (exit ${run.exit_code})`,
    run.thresholds.length
      ? h(
          "ul",
          { class: "thresholds" },
          ...run.thresholds.map((t) =>
            h("li", { class: t.ok ? "ok" : "err" }, `${t.ok ? "ok" : "BREACHED"} ${t.expr}: ${t.message}`),
          ),
        )
      : null,
  );
}
