/** The cluster view: one row per node with its state, labels, users and health; a node that is down is red. */
import { $, fill, h } from "./dom.js";
import type { Frame } from "../../src/api/web/wire.js";

const num = (v: number | null | undefined, unit = "") => (v === null || v === undefined ? "–" : `${v}${unit}`);

/** Draws the nodes table and the run line from a frame. */
export function renderCluster(f: Frame): void {
  const body = $("#nodes tbody");
  fill(
    body,
    ...f.nodes.map((n) =>
      h(
        "tr",
        {
          class: n.state === "down" || n.state === "error" ? "down" : n.state === "left" ? "left" : "",
          "data-node": n.name,
          "data-state": n.state,
          title: n.error ?? "",
        },
        h("td", {}, n.name),
        h("td", {}, n.role),
        h("td", { class: `state-${n.state}` }, n.state),
        h(
          "td",
          {},
          Object.entries(n.labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(", "),
        ),
        // a master runs no users (its membership repeats its node's counts): its row shows health only
        ...(n.role === "master" ? ["–", "–", "–"] : [n.running, n.started, n.crashed]).map((v) =>
          h("td", { class: "num" }, v),
        ),
        h("td", { class: "num" }, num(n.health?.loop_lag_p99_ms, " ms")),
        h("td", { class: "num" }, num(n.health?.cpu_pct, " %")),
        h("td", { class: "num" }, num(n.health?.rss_mb, " MB")),
        h("td", { class: "num" }, num(n.health?.open_files)),
      ),
    ),
  );
  const r = f.run;
  $("#run-line").textContent = f.error
    ? `status failed: ${f.error}`
    : r
      ? `${f.mode} · ${r.scenario}${r.version ? ` @${r.version.slice(0, 8)}` : ""} · ${r.state} · running ${f.users.running} · started ${f.users.started} · crashed ${f.users.crashed}`
      : `${f.mode} · no run`;
}
