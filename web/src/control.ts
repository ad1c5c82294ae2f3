/**
 * Control: start a run (scenario picker, a form from the scenario's declared variables with docs and defaults, verify
 * errors inline; users; interarrival; nodes or labels), add, remove (graceful or forced), update updatable settings,
 * stop; a capacity search (capacity.ts) over the same scenario and variables. Every action shows its result and errors.
 */
import { call, type Answer } from "./http.js";
import { buildCapacity } from "./capacity.js";
import { showResult } from "./result.js";
import { $, fill, h } from "./dom.js";
import type {
  CheckReply,
  ErrorReply,
  Frame,
  ScenarioInfoReply,
  ScenarioListReply,
  VariableRow as Variable,
} from "../../src/api/web/wire.js";

let variables: Variable[] = [];
let lastNodes: string[] = [];

/** Shows a value in an input: strings as they are, anything else as JSON. */
const shown = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** Reads an input back with the type of its default: numbers, booleans and JSON parsed, strings kept. */
function parsed(raw: string, def: unknown): unknown {
  if (typeof def === "string") return raw;
  const t = raw.trim();
  if (t === "infinity") return "infinity";
  try {
    return JSON.parse(t);
  } catch {
    return raw;
  }
}

/** Builds the control tab once. */
export function buildControl(): void {
  const root = $("#tab-control");
  const form = h(
    "form",
    { class: "run", id: "run-form" },
    h("label", { for: "scenario" }, "scenario"),
    h("select", { id: "scenario", name: "scenario" }),
    h("label", { for: "users" }, "users"),
    h("input", { id: "users", type: "number", min: 1, value: 10 }),
    h("label", { for: "interarrival" }, "interarrival (ms)"),
    h("input", { id: "interarrival", type: "number", min: 0, value: 50 }),
    h("label", { for: "repeat_num" }, "repeat_num"),
    h("input", { id: "repeat_num", value: "infinity" }),
    h("label", { for: "run-nodes" }, "nodes"),
    h("select", { id: "run-nodes", multiple: true, size: 3, title: "none selected: every node" }),
    h("label", { for: "labels" }, "labels"),
    h("input", { id: "labels", placeholder: "zone=a,rack=2 (all must match)" }),
    h("div", { class: "vars", id: "vars" }),
  );
  const n = (id: string) => h("input", { id, type: "number", min: 1, value: 10, class: "narrow" });
  root.append(
    form,
    h(
      "div",
      { class: "actions" },
      h("button", { type: "button", class: "primary", id: "btn-start", onclick: () => void start() }, "Start"),
      h("span", {}, " | "),
      n("add-n"),
      h(
        "button",
        {
          type: "button",
          id: "btn-add",
          onclick: () => void act("PATCH", "/execution/add_users", { users: num("#add-n"), ...selector() }),
        },
        "Add",
      ),
      n("remove-n"),
      h("label", {}, h("input", { type: "checkbox", id: "force" }), " force"),
      h(
        "button",
        {
          type: "button",
          id: "btn-remove",
          onclick: () =>
            void act("PATCH", "/execution/remove_users", {
              users: num("#remove-n"),
              force: ($("#force") as HTMLInputElement).checked,
              ...selector(),
            }),
        },
        "Remove",
      ),
      h("span", {}, " | "),
      h("button", { type: "button", id: "btn-update", onclick: () => void updateSettings() }, "Update settings"),
      h(
        "button",
        {
          type: "button",
          class: "danger",
          id: "btn-stop",
          onclick: () => void act("PATCH", "/execution/stop", selector()),
        },
        "Stop",
      ),
    ),
    h("div", { class: "result", id: "result" }, "results of actions appear here, per node"),
    buildCapacity(() => ({ interarrival: num("#interarrival"), ...varValues(true) })),
  );
  $("#scenario").addEventListener("change", () => void loadVariables());
}

const num = (sel: string) => Number(($(sel) as HTMLInputElement).value);

/** Fills the scenario picker (keeping the choice) from GET /scenarios. */
export async function loadScenarios(select?: string): Promise<void> {
  const r = await call<ScenarioListReply>("GET", "/scenarios");
  if (!r.ok) return;
  const sel = $("#scenario") as HTMLSelectElement;
  const keep = select ?? sel.value;
  fill(
    sel,
    ...r.body.details.map((s) =>
      h(
        "option",
        { value: s.name, selected: s.name === keep },
        `${s.name} (${s.source}${s.version ? ` ${s.version.slice(0, 8)}` : ""})`,
      ),
    ),
  );
  await loadVariables();
}

/** The variables form of the chosen scenario, with docs, defaults and which are updatable. */
async function loadVariables(): Promise<void> {
  const name = ($("#scenario") as HTMLSelectElement).value;
  const box = $("#vars");
  if (!name) return fill(box);
  const r = await call<ScenarioInfoReply & ErrorReply>("GET", `/scenarios/info/${encodeURIComponent(name)}`);
  if (!r.ok) return fill(box, h("p", { class: "err" }, r.body.message ?? `cannot load ${name}`));
  variables = r.body.variables;
  fill(
    box,
    h(
      "table",
      { class: "grid" },
      h("thead", {}, h("tr", {}, h("th", {}, "variable"), h("th", {}, "value"), h("th", {}, "doc"), h("th", {}, ""))),
      h(
        "tbody",
        {},
        ...variables.map((v) =>
          h(
            "tr",
            {},
            h("td", {}, v.name),
            h(
              "td",
              {},
              h("input", { "data-var": v.name, value: shown(v.default), "data-default": shown(v.default) }),
              h("div", { class: "err", "data-var-error": v.name }),
            ),
            h("td", { class: "hint" }, v.doc),
            h("td", { class: "hint" }, v.updatable ? "updatable" : ""),
          ),
        ),
      ),
    ),
  );
}

/** The variables whose input differs from the default (or all of them). */
function varValues(changedOnly: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const v of variables) {
    const input = document.querySelector(`input[data-var="${v.name}"]`) as HTMLInputElement | null;
    if (!input) continue;
    if (changedOnly && input.value === input.dataset.default) continue;
    out[v.name] = parsed(input.value, v.default);
  }
  return out;
}

function selector(): { nodes?: string[]; labels?: Record<string, string> } {
  const nodes = [...($("#run-nodes") as HTMLSelectElement).selectedOptions].map((o) => o.value);
  const raw = ($("#labels") as HTMLInputElement).value.trim();
  const out: { nodes?: string[]; labels?: Record<string, string> } = {};
  if (nodes.length) out.nodes = nodes;
  if (raw)
    out.labels = Object.fromEntries(raw.split(",").map((kv) => kv.split("=").map((s) => s.trim()) as [string, string]));
  return out;
}

/** Starts a run from the form (scenario `name` when given, e.g. a freshly saved version). */
export async function start(name?: string): Promise<Answer> {
  if (name) await loadScenarios(name);
  const settings: Record<string, unknown> = { interarrival: num("#interarrival"), ...varValues(true) };
  const rep = ($("#repeat_num") as HTMLInputElement).value.trim();
  if (rep) settings.repeat_num = rep === "infinity" ? "infinity" : Number(rep);
  const scenario = ($("#scenario") as HTMLSelectElement).value;
  const check = await call<CheckReply>("POST", `/dashboard/scenarios/${encodeURIComponent(scenario)}/check`, {
    settings: varValues(true),
  });
  if (check.ok && check.body.problems.length) {
    const r: Answer = {
      status: 400,
      ok: false,
      body: {
        error: "VARIABLE_INVALID",
        message: check.body.problems.map((p) => `${p.key}: ${p.message}`).join("; "),
        problems: check.body.problems,
      },
    };
    for (const el of document.querySelectorAll("[data-var-error]")) el.textContent = "";
    showResult("start", r);
    return r;
  }
  return act("PATCH", "/execution/start", { scenario, users: num("#users"), settings, ...selector() });
}

async function updateSettings(): Promise<void> {
  const changed = Object.fromEntries(
    Object.entries(varValues(true)).filter(([k]) => variables.find((v) => v.name === k)?.updatable),
  );
  if (!Object.keys(changed).length)
    return showResult("update settings", {
      status: 0,
      ok: false,
      body: { message: "change an updatable variable first" },
    });
  await act("PATCH", "/execution/update_settings", { settings: changed, ...selector() });
}

/** Runs one action and shows its result per node; bad variables are shown next to their input. */
async function act(method: string, path: string, body: unknown): Promise<Answer> {
  for (const el of document.querySelectorAll("[data-var-error]")) el.textContent = "";
  const r = await call(method, path, body);
  showResult(path.split("/").pop() ?? path, r);
  return r;
}

/** Keeps the node picker in step with the live nodes. */
export function updateNodePicker(f: Frame): void {
  const names = f.nodes.filter((n) => n.role !== "master" && n.state !== "down").map((n) => n.name);
  if (names.join() === lastNodes.join()) return;
  lastNodes = names;
  const sel = $("#run-nodes") as HTMLSelectElement;
  const chosen = new Set([...sel.selectedOptions].map((o) => o.value));
  fill(sel, ...names.map((n) => h("option", { value: n, selected: chosen.has(n) }, n)));
}
