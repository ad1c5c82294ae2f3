/**
 * Scenarios: the list (built-in and uploaded, with versions), each one's source in the editor (CodeMirror 6, see
 * editor.ts), saved as a new version through the upload path; compile errors are marked at their line; "run again"
 * starts the saved version with the control form's settings.
 */
import { call } from "./http.js";
import type { ErrorReply, ScenarioListReply, SourceReply } from "../../src/api/web/wire.js";
import { $, fill, h } from "./dom.js";
import { loadScenarios, start } from "./control.js";
import { ScenarioEditor, type EditorProblem as Problem } from "./editor.js";

let current = "";
let editor: ScenarioEditor;

/** The editor (tests set and read its text: `window.amoc.editor`). */
export const scenarioEditor = (): ScenarioEditor => editor;

/** Builds the scenarios tab once. */
export function buildScenarios(showTab: (t: string) => void): void {
  const box = h("div", { class: "editor", id: "editor" });
  $("#tab-scenarios").append(
    h(
      "div",
      { class: "split" },
      h("div", { class: "list", id: "scenario-list" }),
      h(
        "div",
        {},
        h(
          "div",
          { class: "actions" },
          h("strong", { id: "editor-title" }, "pick a scenario"),
          h("span", {}, "save as"),
          h("input", { id: "save-name", placeholder: "name (letters, digits, _)" }),
          h("button", { class: "primary", id: "btn-save", onclick: () => void save() }, "Save as new version"),
          h(
            "button",
            { id: "btn-run-again", disabled: true, onclick: () => void runAgain(showTab) },
            "Run again with the new version",
          ),
        ),
        box,
        h("div", { id: "editor-result" }),
      ),
    ),
  );
  editor = new ScenarioEditor(box);
}

/** Lists the scenarios with their source and version. */
export async function loadScenarioList(): Promise<void> {
  const r = await call<ScenarioListReply>("GET", "/scenarios");
  if (!r.ok) return;
  fill(
    $("#scenario-list"),
    ...r.body.details.map((s) =>
      h(
        "div",
        { "data-scenario": s.name, class: s.name === current ? "sel" : "", onclick: () => void open(s.name) },
        h("strong", {}, s.name),
        h("div", { class: "hint" }, `${s.source}${s.version ? ` · ${s.version}` : ""}`),
      ),
    ),
  );
}

async function open(name: string): Promise<void> {
  const r = await call<SourceReply & ErrorReply>("GET", `/dashboard/scenarios/${encodeURIComponent(name)}/source`);
  if (!r.ok) return fill($("#editor-result"), h("p", { class: "err" }, r.body.message ?? "cannot read the source"));
  current = name;
  editor.text = r.body.text;
  $("#editor-title").textContent = `${name} (${r.body.source}${r.body.version ? ` ${r.body.version}` : ""})`;
  ($("#save-name") as HTMLInputElement).value = r.body.source === "builtin" ? `${name.replace(/-/g, "_")}_edit` : name;
  fill($("#editor-result"));
  await loadScenarioList();
}

/** Uploads the editor's text as a new version; problems are listed and their lines marked. */
async function save(): Promise<void> {
  const name = ($("#save-name") as HTMLInputElement).value.trim();
  const r = await call<{
    version?: string;
    unchanged?: boolean;
    message?: string;
    hint?: string;
    problems?: Problem[];
  }>("PUT", `/scenarios/upload?name=${encodeURIComponent(name)}`, editor.text);
  const problems = r.body.problems ?? [];
  editor.mark(problems);
  if (r.ok) {
    current = name;
    ($("#btn-run-again") as HTMLButtonElement).disabled = false;
    fill(
      $("#editor-result"),
      h(
        "p",
        { class: "ok", id: "save-ok" },
        `saved ${name} version ${r.body.version}${r.body.unchanged ? " (unchanged)" : ""}`,
      ),
    );
    await loadScenarioList();
    return;
  }
  fill(
    $("#editor-result"),
    h("p", { class: "err" }, problems.length ? "does not compile:" : (r.body.message ?? `upload failed (${r.status})`)),
    h(
      "ul",
      { class: "problems", id: "problems" },
      ...problems.map((p) =>
        h(
          "li",
          { class: "err", "data-line": p.line, onclick: () => goTo(p.line) },
          `line ${p.line}:${p.column}: ${p.message}`,
        ),
      ),
    ),
    r.body.hint ? h("p", { class: "hint" }, r.body.hint) : null,
  );
}

function goTo(line: number): void {
  editor.goTo(line);
}

/** Stops the run in progress (if any), then starts the saved version with the control form's settings. */
async function runAgain(showTab: (t: string) => void): Promise<void> {
  const st = await call<{ run?: { state?: string } | null }>("GET", "/status");
  if (st.ok && st.body.run?.state === "running") await call("PATCH", "/execution/stop", {});
  showTab("control");
  await loadScenarios(current);
  await start(current);
}
