/** The cluster view: one row per node with its state, labels, users and health; a node that is down is red. */
import { $, fill, h } from "./dom.js";
import type { Frame } from "../../src/api/web/wire.js";
import { runLine } from "./run-line.js";

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
  $("#run-line").textContent = runLine(f, f.error);
}
