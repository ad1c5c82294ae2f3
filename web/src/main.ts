/** The dashboard page: asks for the token when the server wants one, then the live stream drives every view. */
import { buildControl, loadScenarios, updateNodePicker } from "./control.js";
import { LiveCharts } from "./charts.js";
import { renderCluster } from "./cluster.js";
import { $, fill, h } from "./dom.js";
import type { Frame } from "../../src/api/web/wire.js";
import { runLine, type StatusReply } from "./run-line.js";
import { buildHistory, loadHistory } from "./history.js";
import { adoptTokenFromUrl, call, setAuthFailureHandler, stream, token } from "./http.js";
import type { ScenarioEditor } from "./editor.js";
import { buildScenarios, loadScenarioList, scenarioEditor } from "./scenarios.js";

adoptTokenFromUrl();
const charts = new LiveCharts($("#charts"));
let stopStream: (() => void) | undefined;
let frames = 0;

/** What tests and the curious read: `window.amoc`. */
declare global {
  interface Window {
    amoc: {
      charts: LiveCharts;
      frames: () => number;
      lastFrame: () => Frame | undefined;
      ready: boolean;
      editor: () => ScenarioEditor;
    };
  }
}
let lastFrame: Frame | undefined;
window.amoc = { charts, frames: () => frames, lastFrame: () => lastFrame, ready: false, editor: scenarioEditor };

function showTab(name: string): void {
  for (const b of document.querySelectorAll<HTMLButtonElement>("#tabs button"))
    b.classList.toggle("active", b.dataset.tab === name);
  for (const s of document.querySelectorAll<HTMLElement>("section.tab")) s.hidden = s.id !== `tab-${name}`;
  if (name === "scenarios") void loadScenarioList();
  if (name === "history") void loadHistory();
  if (name === "control") void loadScenarios();
}

function askToken(message: string): void {
  stopStream?.();
  stopStream = undefined;
  $("#login-msg").textContent = message;
  $("#login").hidden = false;
  ($("#login-token") as HTMLInputElement).focus();
}

setAuthFailureHandler((status, message) => {
  token.clear();
  askToken(status === 403 ? `The token was refused: ${message}` : "This node's REST API needs its api_token.");
});

/** The run last seen (id and scenario), so the Control form follows a run started elsewhere once, not every frame. */
let seenRun: string | undefined;

function onFrame(f: Frame): void {
  frames++;
  const scenario = f.run?.scenario;
  // keyed on the run, not the scenario: a second run of the scenario the form last showed is still a new run
  const runKey = f.run ? `${f.run.run_id ?? ""}|${f.run.scenario}` : undefined;
  if (scenario && runKey !== seenRun) void loadScenarios(scenario);
  seenRun = runKey;
  lastFrame = f;
  renderCluster(f);
  updateNodePicker(f);
  charts.push(f);
  fill(
    $("#events-list"),
    ...charts.recentEvents().map((e) => h("span", {}, `${new Date(e.t).toISOString().slice(11, 19)} ${e.text} · `)),
  );
}

/** Checks the token (if any) and starts the live views. */
async function open(): Promise<void> {
  const r = await call("GET", "/nodes");
  if (r.status === 401 || r.status === 403) return;
  $("#login").hidden = true;
  // the run line from the node's status at once, not "connecting…" until the stream's first frame
  const st = await call<StatusReply>("GET", "/status");
  if (st.ok && !frames) $("#run-line").textContent = runLine(st.body);
  stopStream?.();
  stopStream = stream(
    "/dashboard/stream",
    (event, data) => {
      if (event === "history") {
        const list = JSON.parse(data) as Frame[];
        charts.reset(list);
        const last = list[list.length - 1];
        if (last) renderCluster(last);
      } else if (event === "frame") onFrame(JSON.parse(data) as Frame);
    },
    (live) => {
      const c = $("#conn");
      c.textContent = live ? "connected" : "offline";
      c.classList.toggle("live", live);
    },
  );
  await loadScenarios();
  window.amoc.ready = true;
}

buildControl();
buildScenarios(showTab);
buildHistory();
for (const b of document.querySelectorAll<HTMLButtonElement>("#tabs button"))
  b.addEventListener("click", () => showTab(b.dataset.tab ?? "cluster"));
$("#window").addEventListener("change", () => charts.setWindow(Number(($("#window") as HTMLSelectElement).value)));
$("#login-form").addEventListener("submit", (e) => {
  e.preventDefault();
  token.set(($("#login-token") as HTMLInputElement).value.trim());
  void open();
});
void open();
