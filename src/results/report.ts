/**
 * The HTML report of a run: one self-contained file (uPlot, its CSS, the page script and the data inlined; opens
 * offline, fits a CI artifact). Header, charts over time with run events marked, every metric, errors, nodes,
 * thresholds. Tables are rendered here; the charts are drawn in the browser from the inlined data.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { MetricStats } from "./merge.js";
import { chartsData, describeEvent } from "./report-data.js";
import type { RunResults } from "./run-results.js";
import { sutSection } from "./report-sut.js";
import { signalText } from "./recording.js";

const TEMPLATES = join(dirname(fileURLToPath(import.meta.url)), "templates");

/** uPlot's minified IIFE build and CSS, read from node_modules once. */
let uplot: { js: string; css: string } | undefined;
function uplotAssets(): { js: string; css: string } {
  if (!uplot) {
    const dist = join(dirname(createRequire(import.meta.url).resolve("uplot")), ".");
    uplot = {
      js: readFileSync(join(dist, "uPlot.iife.min.js"), "utf8"),
      css: readFileSync(join(dist, "uPlot.min.css"), "utf8"),
    };
  }
  return uplot;
}

/** Escapes text for HTML content and attribute values. */
export function esc(v: unknown): string {
  return String(v).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** JSON safe inside a `<script>` element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

const fmt = (x: number | undefined | null): string =>
  x === undefined || x === null ? "" : Number.isInteger(x) ? String(x) : x.toFixed(2);

function when(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

function durationText(s: number): string {
  if (s < 120) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return m < 120 ? `${m} min ${Math.round(s - m * 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function metricRow(name: string, s: MetricStats): string {
  const cells =
    s.kind === "counter"
      ? [s.count, s.rate, "", "", "", "", ""]
      : s.kind === "gauge"
        ? [s.last, "", s.min, "", "", "", s.max]
        : [s.count, s.rate, s.min, s.p50, s.p95, s.p99, s.max];
  return `<tr><td class="name">${esc(name)}</td><td>${s.kind}</td>${cells.map((c) => `<td class="num">${esc(typeof c === "number" ? fmt(c) : c)}</td>`).join("")}</tr>`;
}

function table(head: string[], rows: string[], empty: string): string {
  if (!rows.length) return `<p class="empty">${esc(empty)}</p>`;
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

/** The report page for a run read from the store. */
export function renderReport(res: RunResults): string {
  const r = res.run;
  const ended = r.endedAt !== null;
  const durationS =
    ((r.endedAt ?? (res.intervals.at(-1) ? res.intervals.at(-1)!.t + r.intervalMs : r.startedAt)) - r.startedAt) / 1000;
  const verdict = ended ? r.verdict : "incomplete";
  const verdictText = {
    passed: "passed",
    failed: `failed (exit ${r.exitCode})`,
    breached: `thresholds breached (exit ${r.exitCode})`,
    interrupted: `interrupted: ${signalText(r.exitCode ?? 0)} stopped it (exit ${r.exitCode}); the figures cover it until then`,
    incomplete:
      "incomplete: no end was recorded (the run is still going, or the node recording it died); intervals up to its last are shown",
    running: "running",
  }[verdict];
  const summary = (r.summary ?? {}) as {
    users?: Record<string, number>;
    errors?: Array<{ phase: string; message: string; count: number; where?: string }>;
    problems?: Array<{ node?: string; kind: string; message: string }>;
  };
  const settings = Object.entries(r.settings)
    .map(([k, v]) => `<span class="kv"><b>${esc(k)}</b>=${esc(typeof v === "string" ? v : JSON.stringify(v))}</span>`)
    .join(" ");
  const u = summary.users;
  const header = `
<h1>${esc(r.scenario)} <span class="verdict ${esc(verdict)}">${esc(verdict)}</span></h1>
<p class="verdict-text">${esc(verdictText)}</p>
<dl class="meta">
  <dt>run</dt><dd>${esc(r.id)}</dd>
  <dt>started</dt><dd>${esc(when(r.startedAt))}</dd>
  <dt>duration</dt><dd>${esc(durationText(durationS))}</dd>
  <dt>users</dt><dd>${esc(usersAsked(r.users, r.settings))}${u ? `; started ${esc(u.started)}, finished ${esc(u.finished)}, crashed ${esc(u.crashed)}, removed ${esc(u.removed)}` : ""}</dd>
  <dt>nodes</dt><dd>${esc(r.nodes.join(", "))}</dd>
  <dt>interval</dt><dd>${esc(r.intervalMs)} ms</dd>
  ${r.sourceHash ? `<dt>source</dt><dd>${esc(r.sourceHash)}</dd>` : ""}
  <dt>settings</dt><dd>${settings || "(defaults)"}</dd>
</dl>`;
  const thresholds = table(
    ["threshold", "measured", "outcome", ""],
    res.thresholds.map(
      (t) =>
        `<tr class="${t.ok ? "ok" : "breach"}"><td class="name">${esc(t.expr)}</td><td class="num">${esc(t.actual === null ? "no data" : fmt(t.actual))}</td><td class="outcome">${t.ok ? "passed" : "BREACHED"}</td><td>${esc(t.message)}</td></tr>`,
    ),
    "no thresholds were set (--threshold 'xmpp.message_ttd.p99<50')",
  );
  const metrics = table(
    ["metric", "kind", "count", "rate /s", "min", "p50", "p95", "p99", "max"],
    Object.entries(res.table).map(([k, s]) => metricRow(k, s)),
    "no metrics were recorded",
  );
  const errors = table(
    ["phase", "reason", "count"],
    [
      ...(summary.errors ?? []).map(
        (e) =>
          `<tr><td>${esc(e.phase)}</td><td>${esc(e.message)}${e.where ? ` <span class="where">at ${esc(e.where)}</span>` : ""}</td><td class="num">${esc(e.count)}</td></tr>`,
      ),
      ...(summary.problems ?? []).map(
        (p) =>
          `<tr><td>${esc(p.kind)}</td><td>${esc((p.node ? p.node + ": " : "") + p.message)}</td><td class="num"></td></tr>`,
      ),
    ],
    "no errors",
  );
  const lastEnd = Math.max(0, ...Object.values(res.perNode).map((n) => n.lastT));
  // a node the master saw die (or leave) mid-run: when, next to its last interval
  const lost = new Map(
    res.events
      .filter((e) => (e.kind === "node_down" || e.kind === "node_left") && typeof e.data.node === "string")
      .map((e) => [e.data.node as string, e]),
  );
  const nodes = table(
    ["node", "intervals", "users running (last)", "started", "finished", "crashed", "last interval", ""],
    Object.entries(res.perNode)
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([n, s]) => {
        const l = lost.get(n);
        const gone = s.lastT < lastEnd - r.intervalMs || l?.kind === "node_down";
        const why = [
          gone ? "stopped reporting before the end" : "",
          l ? `${l.kind === "node_down" ? "down" : "left"} at ${when(l.t)}` : "",
        ]
          .filter(Boolean)
          .join("; ");
        return `<tr class="${gone ? "breach" : ""}"><td class="name">${esc(n)}</td><td class="num">${s.intervals}</td><td class="num">${fmt(s.gauges["users.running"] ?? 0)}</td><td class="num">${fmt(s.counters["users.started"] ?? 0)}</td><td class="num">${fmt(s.counters["users.finished"] ?? 0)}</td><td class="num">${fmt(s.counters["users.crashed"] ?? 0)}</td><td>${esc(when(s.lastT))}</td><td>${esc(why)}</td></tr>`;
      }),
    "no node reported an interval",
  );
  const events = table(
    ["time", "node", "event"],
    res.events.map(
      (e) =>
        `<tr class="${e.kind === "threshold_breach" || e.kind === "node_down" ? "breach" : ""}"><td>${esc(when(e.t))}</td><td>${esc(e.node)}</td><td>${esc(describeEvent(e.kind, e.data))}</td></tr>`,
    ),
    "no run events",
  );
  const body = `${header}
<h2>Thresholds</h2>${thresholds}
<h2>Over time</h2><div id="charts"></div>
${sutSection(res, esc)}
<h2>Metrics</h2>${metrics}
<h2>Errors</h2>${errors}
<h2>Nodes</h2>${nodes}
<h2>Run events</h2>${events}`;
  const a = uplotAssets();
  const parts: Record<string, string> = {
    TITLE: esc(`amoc ${r.scenario} ${r.id} (${verdict})`),
    UPLOT_CSS: a.css,
    STYLE: readFileSync(join(TEMPLATES, "report.css"), "utf8"),
    BODY: body,
    DATA: scriptJson(chartsData(res)),
    UPLOT_JS: a.js,
    CLIENT_JS: readFileSync(join(TEMPLATES, "report-client.js"), "utf8"),
  };
  // one pass, no `$` patterns: the inlined code may hold anything
  return readFileSync(join(TEMPLATES, "report.html"), "utf8").replace(
    /\/\*@(\w+)@\*\//g,
    (m, k: string) => parts[k] ?? m,
  );
}

/**
 * What the run asked for: a number of users, or its load shape (a stages or arrival-rate run's `users` is only the
 * first ID's count, 1, which read as "1 user asked" on a run of hundreds).
 */
export function usersAsked(users: number, settings: Record<string, unknown>): string {
  const stages = Array.isArray(settings.stages) ? (settings.stages as Array<{ target?: unknown }>) : [];
  const rates = Array.isArray(settings.arrival_rate) ? (settings.arrival_rate as Array<{ target?: unknown }>) : [];
  const peak = (list: Array<{ target?: unknown }>) =>
    Math.max(0, ...list.map((s) => (typeof s.target === "number" ? s.target : Number(s.target) || 0)));
  if (stages.length) return `stages (${stages.length}, peak ${peak(stages)} users)`;
  if (rates.length) return `arrival rate (${rates.length} stages, peak ${peak(rates)} users/s)`;
  return `${users} asked`;
}
