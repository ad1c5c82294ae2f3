/** The data of the HTML report's charts, built from a run's merged intervals: compact columns, one value per interval. */
import { CRASHED_BY_PHASE_PREFIX } from "./aggregator.js";
import { percentileMs } from "./histogram.js";
import type { RunResults } from "./run-results.js";

/** One chart: a title, a unit, named series over the shared time axis (null: no value in that interval). */
export interface ChartData {
  id: string;
  title: string;
  unit: string;
  series: Array<{ label: string; values: Array<number | null> }>;
}

/** What the page's script reads: the time axis (epoch s), the charts, and the run events to mark. */
export interface ReportChartsData {
  t: number[];
  charts: ChartData[];
  events: Array<{ t: number; kind: string; node: string; text: string }>;
}

const r2 = (x: number): number => Math.round(x * 100) / 100;

/** The charts DESIGN.md asks for: users per node, arrivals/s, crashes/s by phase, messages/s, connection and TTD percentiles. */
export function chartsData(res: RunResults): ReportChartsData {
  const iv = res.intervals;
  const t = iv.map((m) => m.t / 1000);
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
  for (const m of iv) for (const k of Object.keys(m.counters)) if (k.startsWith(CRASHED_BY_PHASE_PREFIX)) phases.add(k.slice(CRASHED_BY_PHASE_PREFIX.length));
  const crashes: ChartData = {
    id: "crashes",
    title: "Crashes per second, by phase",
    unit: "/s",
    series: phases.size ? [...phases].sort().map((p) => ({ label: p, values: rate(CRASHED_BY_PHASE_PREFIX + p) })) : [{ label: "crashed", values: rate("users.crashed") }],
  };
  const pct = (name: string, title: string, id: string): ChartData => ({
    id,
    title,
    unit: "ms",
    series: [50, 95, 99].map((p) => ({ label: `p${p}`, values: iv.map((m) => (m.timings[name] && m.timings[name].totalCount > 0 ? percentileMs(m.timings[name], p) : null)) })),
  });
  const charts: ChartData[] = [
    running,
    { id: "arrivals", title: "Arrivals per second", unit: "/s", series: [{ label: "users started", values: rate("users.started") }, { label: "users finished", values: rate("users.finished") }] },
    crashes,
    { id: "messages", title: "Messages per second", unit: "/s", series: [{ label: "sent", values: rate("xmpp.messages_sent") }, { label: "received", values: rate("xmpp.messages_received") }] },
    pct("xmpp.connection", "Connection time (p50/p95/p99 per interval)", "connection"),
    pct("xmpp.message_ttd", "Time to delivery (p50/p95/p99 per interval)", "ttd"),
  ];
  const events = res.events.map((e) => ({ t: e.t / 1000, kind: e.kind, node: e.node, text: describeEvent(e.kind, e.data) }));
  return { t, charts, events };
}

/** A short description of a run event for the chart marks and the events table. */
export function describeEvent(kind: string, data: Record<string, unknown>): string {
  const parts = Object.entries(data)
    .filter(([, v]) => v !== undefined && v !== null && typeof v !== "object")
    .map(([k, v]) => `${k}=${String(v)}`);
  return `${kind}${parts.length ? " " + parts.join(" ") : ""}`;
}
