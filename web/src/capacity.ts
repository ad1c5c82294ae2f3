/**
 * Control's capacity search (docs/capacity.md): the scenario and variables of the run form, the SLOs (one per line),
 * the steps; Search starts it (PATCH /execution/capacity), Stop stops it, and its steps and result show as they come
 * (GET /execution/capacity, polled every 2 s while it runs).
 */
import type { CapacityProgress } from "../../src/node/capacity/service.js";
import { call } from "./http.js";
import { $, fill, h } from "./dom.js";

let polling: ReturnType<typeof setInterval> | undefined;

const field = (id: string, label: string, value: string | number, attrs: Record<string, string | number> = {}) => [
  h("label", { for: id }, label),
  h("input", { id, value, ...attrs }),
];

/** The capacity panel, appended to the control tab. */
export function buildCapacity(settings: () => Record<string, unknown>): HTMLElement {
  return h(
    "details",
    { class: "capacity", id: "capacity" },
    h("summary", {}, "Capacity search: how many users does the server hold?"),
    h(
      "form",
      { class: "run", id: "capacity-form" },
      h("label", { for: "cap-slos" }, "SLOs (one per line)"),
      h("textarea", { id: "cap-slos", rows: 2 }, "xmpp.connection.p99<1000\nusers.crashed==0"),
      ...field("cap-start", "start", 100, { type: "number", min: 1 }),
      ...field("cap-step", "step", 100, { type: "number", min: 1 }),
      ...field("cap-max", "max", 10000, { type: "number", min: 1 }),
      ...field("cap-hold", "hold", "30s"),
      ...field("cap-refine", "refine (0: off)", 0, { type: "number", min: 0 }),
      h("label", { for: "cap-by" }, "by"),
      h(
        "select",
        { id: "cap-by" },
        h("option", { value: "users" }, "users online"),
        h("option", { value: "rate" }, "users started per second"),
      ),
    ),
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        { type: "button", class: "primary", id: "btn-capacity", onclick: () => void search(settings()) },
        "Search",
      ),
      h(
        "button",
        { type: "button", class: "danger", id: "btn-capacity-stop", onclick: () => void stop() },
        "Stop search",
      ),
    ),
    h("div", { class: "result", id: "capacity-result" }, "the search's steps and capacity appear here"),
  );
}

const value = (id: string) => ($(`#${id}`) as HTMLInputElement).value.trim();

async function search(settings: Record<string, unknown>): Promise<void> {
  const body = {
    scenario: ($("#scenario") as HTMLSelectElement).value,
    slos: value("cap-slos")
      .split("\n")
      .map((s) => s.trim())
      .filter(Boolean),
    start: Number(value("cap-start")),
    step: Number(value("cap-step")),
    max: Number(value("cap-max")),
    hold: value("cap-hold"),
    refine: Number(value("cap-refine")),
    by: value("cap-by"),
    settings,
  };
  const r = await call<CapacityProgress & { message?: string; hint?: string }>("PATCH", "/execution/capacity", body);
  if (!r.ok) return show(null, `${r.body.message ?? `HTTP ${r.status}`}${r.body.hint ? ` (${r.body.hint})` : ""}`);
  show(r.body);
  clearInterval(polling);
  polling = setInterval(() => void poll(), 2000);
}

async function poll(): Promise<void> {
  const r = await call<CapacityProgress>("GET", "/execution/capacity");
  if (!r.ok) return;
  show(r.body);
  if (r.body.state !== "running" && r.body.state !== "stopping") clearInterval(polling);
}

async function stop(): Promise<void> {
  const r = await call<CapacityProgress>("PATCH", "/execution/capacity/stop", {});
  if (r.ok) show(r.body);
  clearInterval(polling);
}

/** The progress as a table of steps and a line saying the capacity (or what went wrong). */
function show(p: CapacityProgress | null, error?: string): void {
  const box = $("#capacity-result");
  if (!p) return fill(box, h("p", { class: "err" }, error ?? ""));
  const unit = p.by === "rate" ? "users/s" : "users";
  const r = p.result;
  const verdict = r
    ? r.generatorLimited
      ? `capacity not measured: limited by the generator (${r.generatorLimited}); the server held at least ${r.capacity} ${unit}`
      : `capacity: ${r.capacity} ${unit}${r.broke ? `; broke first: ${r.broke.slo}: ${r.broke.message}` : ""}${r.stopped ? " (stopped: a lower bound)" : ""}`
    : `search ${p.state}${p.error ? `: ${p.error}` : ""}, run ${p.run_id ?? "starting"}`;
  const names = p.steps[0]?.slos.map((s) => s.expr) ?? [];
  fill(
    box,
    h("p", { id: "capacity-verdict" }, verdict),
    h(
      "table",
      { class: "grid" },
      h(
        "thead",
        {},
        h("tr", {}, h("th", {}, unit), ...names.map((n) => h("th", {}, n)), h("th", {}, ""), h("th", {}, "generator")),
      ),
      h(
        "tbody",
        {},
        ...p.steps.map((s) =>
          h(
            "tr",
            { class: s.ok ? "ok" : "breach" },
            h("td", {}, s.users),
            ...s.slos.map((x) => h("td", {}, x.actual ?? "-")),
            h("td", {}, s.ok ? "ok" : "FAILED"),
            h("td", {}, s.health.limited ?? `lag p99 ${s.health.lagP99MaxMs ?? "-"} ms`),
          ),
        ),
      ),
    ),
  );
}
