/** The data of the HTML report's charts, built from a run's merged intervals: compact columns, one value per interval. */
import { CRASHED_BY_PHASE_PREFIX } from "./aggregator.js";
import { sutCharts } from "./report-sut.js";
import type { RunResults } from "./run-results.js";

/** One chart: a title, a unit, named series over the shared time axis (null: no value in that interval). */
export interface ChartData {
  id: string;
  title: string;
  unit: string;
  /** The unit of the right-hand axis, for series marked `axis: 2` (a load figure beside a server figure). */
  unit2?: string;
  series: Array<{ label: string; values: Array<number | null>; axis?: 2 }>;
}

/** What the page's script reads: the time axis (epoch s), the charts, and the run events to mark. */
export interface ReportChartsData {
  t: number[];
  charts: ChartData[];
  events: Array<{ t: number; kind: string; node: string; text: string }>;
  /** The x range (epoch s): from the first interval's start (or an earlier event) to the last value or event. */
  range: [number, number];
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

/** The report's charts: users per node, arrivals/s, crashes/s by phase, messages/s, connection and TTD percentiles. */
export function chartsData(res: RunResults): ReportChartsData {
  const iv = res.intervals;
  // each value is plotted at the end of its interval (a rate over the second that just passed), so events up to the end show
  const t = iv.map((m) => (m.t + m.ms) / 1000);
  const rate = (name: string) => iv.map((m) => r2((m.counters[name] ?? 0) / (m.ms / 1000)));
  const nodes = Object.keys(res.perNode).sort();
  const running: ChartData = {
    id: "users",
    title: "Users running",
    unit: "users",
    series: [
      ...(nodes.length > 1 ? [{ label: "all nodes", values: iv.map((m) => m.gauges["users.running"] ?? null) }] : []),
      ...nodes.map((n) => ({ label: n, values: iv.map((m) => m.nodeGauges[n]?.["users.running"] ?? null) })),
    ],
  };
  const phases = new Set<string>();
  for (const m of iv)
    for (const k of Object.keys(m.counters))
      if (k.startsWith(CRASHED_BY_PHASE_PREFIX)) phases.add(k.slice(CRASHED_BY_PHASE_PREFIX.length));
  const crashes: ChartData = {
    id: "crashes",
    title: "Crashes per second, by phase",
    unit: "/s",
    series: phases.size
      ? [...phases].sort().map((p) => ({ label: p, values: rate(CRASHED_BY_PHASE_PREFIX + p) }))
      : [{ label: "crashed", values: rate("users.crashed") }],
  };
  const pct = (name: string, title: string, id: string): ChartData => ({
    id,
    title,
    unit: "ms",
    series: (["p50", "p95", "p99"] as const).map((p) => ({
      label: p,
      values: iv.map((m) => (m.stats[name] && m.stats[name].count > 0 ? m.stats[name][p] : null)),
    })),
  });
  const charts: ChartData[] = [
    running,
    {
      id: "arrivals",
      title: "Arrivals per second",
      unit: "/s",
      series: [
        { label: "users started", values: rate("users.started") },
        { label: "users finished", values: rate("users.finished") },
      ],
    },
    crashes,
    {
      id: "messages",
      title: "Messages per second",
      unit: "/s",
      series: [
        { label: "sent", values: rate("xmpp.messages_sent") },
        { label: "received", values: rate("xmpp.messages_received") },
      ],
    },
    pct("xmpp.connection", "Connection time (p50/p95/p99 per interval)", "connection"),
    pct("xmpp.message_ttd", "Time to delivery (p50/p95/p99 per interval)", "ttd"),
    ...sutCharts(res),
  ];
  const events = mergeCloseEvents(res.events, Math.max(1000, res.run.intervalMs)).map((e) => ({
    t: e.t / 1000,
    kind: e.kind,
    node: e.node,
    text: e.text,
  }));
  const starts = [...(iv[0] ? [iv[0].t / 1000] : []), ...events.map((e) => e.t)];
  const ends = [...t, ...events.map((e) => e.t)];
  const range: [number, number] = starts.length ? [Math.min(...starts), Math.max(...ends)] : [0, 1];
  return { t, charts, events, range };
}

/** A short description of a run event for the chart marks and the events table. */
export function describeEvent(kind: string, data: Record<string, unknown>): string {
  const parts = Object.entries(data)
    .filter(([, v]) => v !== undefined && v !== null && typeof v !== "object")
    .map(([k, v]) => `${k}=${String(v)}`);
  return `${kind}${parts.length ? " " + parts.join(" ") : ""}`;
}

/** A run event as the charts mark it: several close ones of a kind merged into one. */
export interface MarkedEvent {
  t: number;
  kind: string;
  node: string;
  text: string;
}

/**
 * Events of one kind from one node, each within `gapMs` of the previous, as one mark (a stages ramp-down removes
 * users every few hundred ms: 40 marks on top of each other hid the chart): at the first's time, with how many,
 * over how long, and the numeric fields summed (the other fields when they agree).
 */
export function mergeCloseEvents(
  events: ReadonlyArray<{ t: number; kind: string; node: string; data: Record<string, unknown> }>,
  gapMs: number,
): MarkedEvent[] {
  const out: MarkedEvent[] = [];
  let group: Array<(typeof events)[number]> = [];
  const flush = () => {
    const first = group[0];
    if (!first) return;
    const last = group[group.length - 1] as (typeof events)[number];
    if (group.length === 1)
      out.push({ t: first.t, kind: first.kind, node: first.node, text: describeEvent(first.kind, first.data) });
    else {
      const data: Record<string, unknown> = {};
      for (const k of Object.keys(first.data)) {
        const values = group.map((e) => e.data[k]);
        if (values.every((v) => typeof v === "number")) data[k] = (values as number[]).reduce((a, b) => a + b, 0);
        else if (values.every((v) => v === values[0])) data[k] = values[0];
      }
      const span = Math.round((last.t - first.t) / 100) / 10;
      out.push({
        t: first.t,
        kind: first.kind,
        node: first.node,
        text: `${describeEvent(`${first.kind} x${group.length} over ${span} s`, data)}`,
      });
    }
    group = [];
  };
  for (const e of events) {
    const prev = group[group.length - 1];
    if (prev && (prev.kind !== e.kind || prev.node !== e.node || e.t - prev.t > gapMs)) flush();
    group.push(e);
  }
  flush();
  return out;
}
