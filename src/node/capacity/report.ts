/**
 * The capacity search's HTML report: one chart per SLO of the step's figure against users online, the knee (the last
 * passing step) marked and the limit drawn, and a table of steps (users, window, each SLO's value, verdict, generator
 * health, and the server under test's CPU, memory and sessions where the run sampled them). Self-contained (inline SVG), like the run report.
 */
import type { CapacityResult } from "./search.js";

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&${{ "&": "amp", "<": "lt", ">": "gt", '"': "quot" }[c]};`);

function chart(r: CapacityResult, k: number): string {
  const W = 560,
    H = 240,
    L = 60,
    B = 30,
    T = 20,
    R = 20;
  // by level: a refinement judges levels between earlier ones
  const pts = r.steps
    .map((s) => ({ x: s.users, y: s.slos[k]?.actual ?? null, ok: s.slos[k]?.ok ?? false }))
    .sort((a, b) => a.x - b.x);
  const slo = r.steps[0]?.slos[k];
  const limit = slo?.value ?? 0;
  const maxX = Math.max(1, ...pts.map((p) => p.x));
  const maxY = Math.max(limit * 1.2, ...pts.map((p) => p.y ?? 0)) || 1;
  const X = (x: number) => L + (x / maxX) * (W - L - R);
  const Y = (y: number) => H - B - (y / maxY) * (H - B - T);
  const line = pts
    .filter((p) => p.y !== null)
    .map((p) => `${X(p.x).toFixed(1)},${Y(p.y as number).toFixed(1)}`)
    .join(" ");
  const dots = pts
    .filter((p) => p.y !== null)
    .map(
      (p) =>
        `<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y as number).toFixed(1)}" r="4" fill="${p.ok ? "#2a7" : "#d33"}"/>`,
    )
    .join("");
  const knee =
    r.capacity > 0
      ? `<line class="knee" x1="${X(r.capacity)}" x2="${X(r.capacity)}" y1="${T}" y2="${H - B}" stroke="#06c" stroke-dasharray="4 3"/><text x="${X(r.capacity) + 4}" y="${T + 12}" fill="#06c">knee: ${r.capacity} ${r.by === "rate" ? "users/s" : "users"}</text>`
      : "";
  return `<figure><figcaption>${esc(slo?.expr ?? "")}</figcaption><svg width="${W}" height="${H}" role="img" aria-label="${esc(slo?.expr ?? "")} against users">
<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#888"/><line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#888"/>
<line class="limit" x1="${L}" x2="${W - R}" y1="${Y(limit)}" y2="${Y(limit)}" stroke="#d33" stroke-dasharray="2 2"/><text x="${L + 4}" y="${Y(limit) - 4}" fill="#d33">limit ${limit}</text>
<polyline fill="none" stroke="#333" points="${line}"/>${dots}${knee}
<text x="${W / 2}" y="${H - 6}" text-anchor="middle">${r.by === "rate" ? "users started per second" : "users online"}</text><text x="4" y="${T}" >${maxY.toFixed(0)}</text></svg></figure>`;
}

/** The server under test's figures a step may carry (its largest value in the step), as the table shows them. */
const SERVER_COLUMNS: Array<{ key: string; title: string; show: (v: number) => string }> = [
  { key: "sut.process_cpu", title: "server CPU (cores)", show: (v) => v.toFixed(2) },
  { key: "sut.process_rss_bytes", title: "server RSS (MB)", show: (v) => (v / 1024 / 1024).toFixed(0) },
  { key: "sut.sessions", title: "server sessions", show: (v) => String(Math.round(v)) },
];

export function renderCapacityReport(r: CapacityResult): string {
  const names = r.steps[0]?.slos.map((s) => s.expr) ?? [];
  // beside the SLOs, the server's own figures where the run sampled it (AMOC_SUT_*)
  const server = SERVER_COLUMNS.filter((c) => r.steps.some((s) => s.server?.[c.key] !== undefined));
  const serverCells = (s: CapacityResult["steps"][number]) =>
    server
      .map((c) => {
        const v = s.server?.[c.key];
        return `<td>${v === undefined ? "-" : c.show(v)}</td>`;
      })
      .join("");
  const rows = r.steps
    .map(
      (s) =>
        `<tr class="${s.ok ? "ok" : "breach"}"><td>${s.users}</td><td>${((s.to - s.from) / 1000).toFixed(0)} s</td>${s.slos
          .map((x) => `<td>${x.actual ?? "-"}</td>`)
          .join(
            "",
          )}${serverCells(s)}<td>${s.ok ? "ok" : "FAILED"}</td><td>lag p99 ${s.health.lagP99MaxMs ?? "-"} ms, CPU ${s.health.cpuMaxPct ?? "-"} %${s.health.limited ? ` <b>generator-limited: ${esc(s.health.limited)}</b>` : ""}</td></tr>`,
    )
    .join("\n");
  const verdict = r.generatorLimited
    ? `Limited by the generator (${esc(r.generatorLimited)}): the server held at least ${r.capacity} users.`
    : `Capacity: <b>${r.capacity}</b> ${r.by === "rate" ? "users started per second" : "users"}.`;
  const broke = r.broke ? `<p>Broke first: <code>${esc(r.broke.slo)}</code>: ${esc(r.broke.message)}</p>` : "";
  return `<!doctype html><html><head><meta charset="utf-8"><title>capacity: ${esc(r.scenario)}</title>
<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;text-align:right}tr.breach{background:#fdd}</style></head>
<body><h1>Capacity search: ${esc(r.scenario)}</h1><section id="capacity"><p>${verdict}</p>${broke}
${r.steps[0]?.slos.map((_, k) => chart(r, k)).join("\n") ?? ""}
<table><thead><tr><th>users</th><th>window</th>${names.map((n) => `<th>${esc(n)}</th>`).join("")}${server.map((c) => `<th>${c.title}</th>`).join("")}<th>verdict</th><th>generator</th></tr></thead>
<tbody>${rows}</tbody></table><p>run ${esc(r.run_id)}</p></section></body></html>`;
}
