/**
 * Live charts (uPlot): users running per node, arrivals/crashes/messages per second, connection time, time to
 * delivery p50/p95/p99 (while the run sends messages), and any metric of the run picked by name (a timing as
 * p50/p95/p99, a counter as a rate), the server under test's sessions, CPU and memory where the run samples them
 * (server-charts.ts); run events drawn as marked vertical lines; only the last N minutes are kept.
 * A second without samples is a gap in a timing chart, never a line drawn through it.
 */
import uPlot from "uplot";
import { h } from "./dom.js";
import type { ChartDef } from "./chart-def.js";
import { eventsPlugin } from "./chart-events.js";
import { serverChartDefs } from "./server-charts.js";
import type { FeedEvent, Frame } from "../../src/api/web/wire.js";

const COLORS = ["#0969da", "#1a7f37", "#cf222e", "#8250df", "#9a6700", "#bf3989", "#0a3069", "#6e7781"];
/** The charts of the cluster view, fed one frame at a time. */
export class LiveCharts {
  private frames: Frame[] = [];
  private events: FeedEvent[] = [];
  private readonly plots = new Map<string, { plot: uPlot; key: string; box: HTMLElement }>();
  private nodeNames: string[] = [];
  /** Crash reasons seen (the 5 most frequent are charted) and each frame's crashes/s per reason. */
  private reasons: string[] = [];
  private readonly reasonRates = new WeakMap<Frame, Record<string, number>>();
  windowMin = 5;
  /** The metric the picker chart shows (a name from the frames' `metrics`), or none yet. */
  private picked: string | undefined;
  private readonly picker: HTMLSelectElement;

  constructor(private readonly root: HTMLElement) {
    this.picker = h("select", { id: "metric-pick", title: "any metric of the run" }) as HTMLSelectElement;
    this.picker.addEventListener("change", () => this.pick(this.picker.value));
    root.appendChild(h("div", { class: "toolbar", id: "metric-picker" }, "metric ", this.picker));
  }

  /** Shows `name` in the picker chart (tests call it: `window.amoc.charts.pick("muc.echo_rtt")`). */
  pick(name: string): void {
    this.picked = name;
    this.picker.value = name;
    this.redraw();
  }

  /** Every metric name the kept frames carry, timings first, sorted. */
  metricNames(): string[] {
    const timings = new Set<string>();
    const rates = new Set<string>();
    for (const f of this.frames) {
      for (const k of Object.keys(f.metrics?.timings ?? {})) timings.add(k);
      for (const k of Object.keys(f.metrics?.rates ?? {})) rates.add(k);
    }
    return [...[...timings].sort(), ...[...rates].filter((k) => !timings.has(k)).sort()];
  }

  /** Whether a chart joins its points across seconds without a value (tests read it; timings leave gaps). */
  joinsGaps(chart: string): boolean | null {
    const p = this.plots.get(chart)?.plot;
    return p ? p.series.slice(1).some((s) => s.spanGaps === true) : null;
  }

  /** Which chart ids are drawn now (tests read it). */
  chartIds(): string[] {
    return [...this.plots.keys()];
  }

  private defs(): ChartDef[] {
    const pct = (k: "connection" | "ttd") => () =>
      (["p50", "p95", "p99"] as const).map((p) => ({ label: p, get: (f: Frame) => f.timings[k]?.[p] ?? null }));
    return [
      {
        id: "users",
        title: "users running per node",
        unit: "users",
        series: () => [
          { label: "total", get: (f) => f.users.running },
          ...this.nodeNames.map((n) => ({
            label: n,
            get: (f: Frame) => f.nodes.find((x) => x.name === n)?.running ?? null,
          })),
        ],
      },
      {
        id: "rates",
        title: "per second: arrivals, crashes, messages sent",
        unit: "/s",
        series: () => [
          { label: "arrivals/s", get: (f) => f.rates.arrivals },
          { label: "crashes/s", get: (f) => f.rates.crashes },
          { label: "messages/s", get: (f) => f.rates.messages },
        ],
      },
      {
        id: "crashes",
        title: "crashes per second by reason",
        unit: "/s",
        series: () =>
          (this.reasons.length ? this.reasons : ["none"]).map((r) => ({
            label: r,
            get: (f: Frame) => this.reasonRates.get(f)?.[r] ?? 0,
          })),
      },
      { id: "connection", title: "connection time, ms", unit: "ms", series: pct("connection") },
      // only while the run delivers messages: an empty chart says nothing
      ...(this.frames.some((f) => f.timings.ttd)
        ? [{ id: "ttd", title: "message time to delivery, ms", unit: "ms", series: pct("ttd") }]
        : []),
      ...serverChartDefs(this.frames),
      ...this.pickedDef(),
    ];
  }

  /** The picker's chart: the chosen metric as p50/p95/p99 if it is a timing, else per second. */
  private pickedDef(): ChartDef[] {
    const names = this.metricNames();
    const have = [...this.picker.options].map((o) => o.value);
    if (have.join("|") !== names.join("|")) {
      this.picker.replaceChildren(...names.map((n) => h("option", { value: n }, n)));
    }
    if (!this.picked || !names.includes(this.picked))
      this.picked = names.find((n) => !n.startsWith("xmpp.") && !n.startsWith("users.")) ?? names[0];
    const name = this.picked;
    if (!name) return [];
    this.picker.value = name;
    const timing = this.frames.some((f) => f.metrics?.timings?.[name]);
    return [
      timing
        ? {
            id: "picked",
            title: `${name}, ms`,
            unit: "ms",
            series: () =>
              (["p50", "p95", "p99"] as const).map((p) => ({
                label: p,
                get: (f: Frame) => f.metrics?.timings?.[name]?.[p] ?? null,
              })),
          }
        : {
            id: "picked",
            title: `${name} per second`,
            unit: "/s",
            series: () => [{ label: `${name}/s`, get: (f: Frame) => f.metrics?.rates?.[name] ?? null }],
          },
    ];
  }

  /** Replaces the kept frames (a new connection's history). */
  reset(frames: Frame[]): void {
    this.frames = [];
    this.events = [];
    for (const f of frames) this.keep(f);
    this.redraw();
  }

  push(f: Frame): void {
    this.keep(f);
    this.redraw();
  }

  setWindow(min: number): void {
    this.windowMin = min;
    this.trim();
    this.redraw();
  }

  /** Recent events, newest first (the cluster view lists them). */
  recentEvents(n = 6): FeedEvent[] {
    return this.events.slice(-n).reverse();
  }

  /** The last value of a chart's series (tests read it: `window.amoc.charts.last("users", "total")`). */
  last(chart: string, label: string): number | null {
    const p = this.plots.get(chart)?.plot;
    if (!p) return null;
    const i = p.series.findIndex((s) => s.label === label);
    const col = i >= 0 ? (p.data[i] as Array<number | null>) : undefined;
    return col && col.length ? (col[col.length - 1] ?? null) : null;
  }

  /** The largest value a series reached in the window. */
  max(chart: string, label: string): number | null {
    const p = this.plots.get(chart)?.plot;
    if (!p) return null;
    const i = p.series.findIndex((s) => s.label === label);
    const col = i >= 0 ? (p.data[i] as Array<number | null>) : [];
    return col.reduce<number | null>((m, v) => (v !== null && (m === null || v > m) ? v : m), null);
  }

  private keep(f: Frame): void {
    const prev = this.frames[this.frames.length - 1];
    if (prev && prev.run?.run_id === f.run?.run_id) {
      const dt = Math.max(0.001, (f.t - prev.t) / 1000);
      const rates: Record<string, number> = {};
      for (const [r, n] of Object.entries(f.crash_reasons))
        rates[r] = Math.max(0, n - (prev.crash_reasons[r] ?? 0)) / dt;
      this.reasonRates.set(f, rates);
    }
    const top = Object.entries(f.crash_reasons)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 5)
      .map(([r]) => r);
    for (const r of top) if (!this.reasons.includes(r)) this.reasons = [...this.reasons, r].slice(-5);
    this.frames.push(f);
    this.events.push(...f.events);
    for (const n of f.nodes)
      if (!this.nodeNames.includes(n.name) && n.role !== "master") this.nodeNames = [...this.nodeNames, n.name].sort();
    this.trim();
  }

  private trim(): void {
    const last = this.frames[this.frames.length - 1];
    if (!last) return;
    const oldest = last.t - this.windowMin * 60_000;
    let i = 0;
    while (i < this.frames.length && (this.frames[i] as Frame).t < oldest) i++;
    if (i) this.frames = this.frames.slice(i);
    this.events = this.events.filter((e) => e.t >= oldest);
  }

  private redraw(): void {
    const width = Math.max(400, Math.min(900, (this.root.clientWidth || 1200) / 2 - 30));
    const xs = this.frames.map((f) => f.t / 1000);
    const defs = this.defs();
    for (const [id, e] of this.plots)
      if (!defs.some((d) => d.id === id)) {
        e.plot.destroy();
        e.box.remove();
        this.plots.delete(id);
      }
    for (const d of defs) {
      const series = d.series();
      // a new metric in the picker redraws its chart (its title and series change)
      const key = `${d.title}:${series.map((s) => s.label).join("|")}`;
      const data: uPlot.AlignedData = [xs, ...series.map((s) => this.frames.map((f) => s.get(f)))];
      let entry = this.plots.get(d.id);
      let before: Element | null = null;
      if (entry && entry.key !== key) {
        // the series changed (a node joined): a new chart in the old one's place
        entry.plot.destroy();
        before = entry.box.nextElementSibling;
        entry.box.remove();
        entry = undefined;
      }
      if (!entry) {
        const box = h("div", { class: "chart", id: `chart-${d.id}` }, h("h3", {}, d.title));
        this.root.insertBefore(box, before);
        const opts: uPlot.Options = {
          width,
          height: 220,
          series: [
            {},
            ...series.map((s, i) => ({
              label: s.label,
              stroke: COLORS[i % COLORS.length],
              width: 1.5,
              spanGaps: d.spanGaps ?? d.unit !== "ms",
            })),
          ],
          axes: [{}, { label: d.unit, size: 60 }],
          scales: { x: { time: true } },
          plugins: [eventsPlugin(() => this.events)],
        };
        entry = { plot: new uPlot(opts, data, box), key, box };
        this.plots.set(d.id, entry);
      } else entry.plot.setData(data);
      if (d.unit === "ms") {
        const head = entry.box.querySelector("h3");
        if (head) head.textContent = `${d.title} (per second)`;
      }
    }
  }
}
