/** History: the node's recorded runs (whichever front end started them), each opening its HTML report; two picked are compared metric by metric. */
import { call } from "./http.js";
import { $, fill, h } from "./dom.js";
import type { CompareReply, ErrorReply, RunsReply, StatChange as Change, TicketReply } from "../../src/api/web/wire.js";

const when = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);

/** Builds the history tab once. */
export function buildHistory(): void {
  $("#tab-history").append(
    h(
      "div",
      { class: "actions" },
      h("input", {
        id: "history-scenario",
        placeholder: "scenario (all)",
        title: "only the runs of this scenario (bin/amoc runs --name)",
        onchange: () => void loadHistory(),
      }),
      h("button", { onclick: () => void loadHistory() }, "Refresh"),
      h("button", { id: "btn-compare", class: "primary", onclick: () => void compare() }, "Compare the two picked"),
    ),
    h("div", { id: "history-list" }),
    h("div", { id: "history-detail" }),
  );
}

/** Lists the stored runs, newest first. */
export async function loadHistory(): Promise<void> {
  const scenario = ($("#history-scenario") as HTMLInputElement).value.trim();
  const r = await call<RunsReply & ErrorReply>(
    "GET",
    `/dashboard/runs${scenario ? `?scenario=${encodeURIComponent(scenario)}` : ""}`,
  );
  if (!r.ok) return fill($("#history-list"), h("p", { class: "err" }, r.body.message ?? "cannot list the runs"));
  if (!r.body.runs.length)
    return fill(
      $("#history-list"),
      h(
        "p",
        { class: "hint" },
        scenario
          ? `no runs of '${scenario}' recorded`
          : "no runs recorded yet: every run this node starts is recorded, from any front end",
      ),
    );
  fill(
    $("#history-list"),
    h(
      "table",
      { class: "grid", id: "runs" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", {}, "pick"),
          h("th", {}, "run"),
          h("th", {}, "scenario"),
          h("th", {}, "users"),
          h("th", {}, "nodes"),
          h("th", {}, "started (UTC)"),
          h("th", {}, "duration"),
          h("th", {}, "verdict"),
          h("th", {}, ""),
        ),
      ),
      h(
        "tbody",
        {},
        ...r.body.runs.map((x) =>
          h(
            "tr",
            { "data-run": x.id },
            h("td", {}, h("input", { type: "checkbox", class: "pick", value: x.id })),
            h("td", {}, x.id),
            h("td", {}, x.kind === "capacity" ? `${x.scenario} (capacity search)` : x.scenario),
            h("td", { class: "num" }, x.users),
            h("td", {}, x.nodes.join(", ")),
            h("td", {}, when(x.started_at)),
            h("td", { class: "num" }, x.ended_at ? `${((x.ended_at - x.started_at) / 1000).toFixed(1)} s` : "–"),
            h("td", { class: x.verdict === "passed" ? "ok" : "err" }, x.verdict),
            h("td", {}, h("button", { class: "open-report", onclick: () => void report(x.id) }, "report")),
          ),
        ),
      ),
    ),
  );
}

/**
 * Shows a run's HTML report in a sandboxed frame. A frame cannot send the bearer header, so the page asks for a
 * single-use ticket (with its token) and the frame's URL carries the ticket, never the token; the report is served
 * with its own sandboxing CSP (opaque origin: its script cannot call the API), and the frame is sandboxed too.
 */
async function report(id: string): Promise<void> {
  const t = await ticket(id);
  if (!t) return fill($("#history-detail"), h("p", { class: "err" }, "report failed: no ticket"));
  const newTab = h(
    "a",
    { href: "#", onclick: (e: Event) => void openInTab(e, id) },
    `open the report of ${id} in a new tab`,
  );
  fill(
    $("#history-detail"),
    h("p", {}, newTab),
    h("iframe", { class: "report", id: "report-frame", sandbox: "allow-scripts", src: t }),
  );
}

async function ticket(id: string): Promise<string | null> {
  const r = await call<Partial<TicketReply>>("POST", `/dashboard/runs/${encodeURIComponent(id)}/ticket`);
  return r.ok && r.body.url ? r.body.url : null;
}

async function openInTab(e: Event, id: string): Promise<void> {
  e.preventDefault();
  const t = await ticket(id);
  if (t) window.open(t, "_blank", "noopener");
}

async function compare(): Promise<void> {
  const picked = [...document.querySelectorAll<HTMLInputElement>("input.pick:checked")].map((i) => i.value);
  if (picked.length !== 2) return fill($("#history-detail"), h("p", { class: "err" }, "pick exactly two runs"));
  const [b, a] = picked as [string, string]; // the list is newest first: the older run is the baseline
  const r = await call<CompareReply & ErrorReply>(
    "GET",
    `/dashboard/compare?a=${encodeURIComponent(a)}&b=${encodeURIComponent(b)}`,
  );
  if (!r.ok) return fill($("#history-detail"), h("p", { class: "err" }, r.body.message ?? "compare failed"));
  const stats = ["count", "rate", "p50", "p95", "p99"];
  const cell = (c: Change | undefined) =>
    c
      ? h(
          "td",
          { class: `num${c.regression ? " regression" : ""}` },
          `${c.a ?? "–"} → ${c.b ?? "–"}${c.changePct !== null ? ` (${c.changePct > 0 ? "+" : ""}${c.changePct}%)` : ""}`,
        )
      : h("td", {}, "");
  fill(
    $("#history-detail"),
    h("h3", {}, `${r.body.a} (baseline) vs ${r.body.b}`),
    h(
      "table",
      { class: "grid", id: "compare" },
      h("thead", {}, h("tr", {}, h("th", {}, "metric"), ...stats.map((s) => h("th", {}, s)))),
      h(
        "tbody",
        {},
        ...r.body.metrics.map((m) =>
          h(
            "tr",
            {},
            h("td", { class: m.regression ? "regression" : "" }, m.metric),
            ...stats.map((s) => cell(m.stats[s])),
          ),
        ),
      ),
    ),
  );
}
