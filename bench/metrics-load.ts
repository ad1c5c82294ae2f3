/**
 * Benchmark: metrics at R stanzas/s for D seconds through the real bridge and StatsD adapter (a count and a timing per
 * stanza, as xmpp.messages_sent and xmpp.message_ttd), against a baseline run with StatsD off. Prints one JSON object:
 * the CPU share the metrics cost (extra CPU time / wall time, in % of one core), the rate achieved, and the packet loss
 * measured at the daemon (what StatsD flushed to Graphite, read back through the render API, against what was sent).
 * Needs `scripts/servers.sh up graphite` for the loss figure. Run: node --import tsx bench/metrics-load.ts 10000 30
 */
import { loadNodeSettings } from "../src/config/load.js";
import { silentLogger } from "../src/log.js";
import { TelemetryMetrics } from "../src/metrics/metrics.js";
import { startReporting } from "../src/metrics/reporting.js";
import { Telemetry } from "../src/telemetry.js";
import { loadAverage, recordFigures } from "./lib/results.js";

const rate = Number(process.argv[2] ?? 10_000);
const durationS = Number(process.argv[3] ?? 30);
const loadBefore = loadAverage();
const statsdHost = process.env.AMOC_STATSD_HOST || "127.0.0.1";
const statsdPort = process.env.AMOC_STATSD_PORT || "8125";
const graphiteWeb = process.env.AMOC_BENCH_GRAPHITE_WEB ?? "http://127.0.0.1:8080";
const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
const prefix = `amocbench${runId}`;
const nodeName = `bench-${runId}`;
/** The emitting loop wakes this often and catches up with the schedule. */
const TICK_MS = 5;

interface Phase {
  stanzas: number;
  wallMs: number;
  cpuMs: number;
}

/** Emits `rate` stanzas/s (a count and a timing each) for `durationS` on `telemetry`; measures wall and CPU time. */
function drive(telemetry: Telemetry): Promise<Phase> {
  const m = new TelemetryMetrics(telemetry);
  const total = Math.round(rate * durationS);
  return new Promise((resolve) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let sent = 0;
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000));
      for (; sent < due; sent++) {
        m.count("xmpp.messages_sent");
        // a plausible spread of delivery times, so StatsD computes real percentiles
        m.timing("xmpp.message_ttd", 0.5 + (sent % 997) * 0.05);
      }
      if (sent >= total) {
        clearInterval(timer);
        const cpu = process.cpuUsage(cpu0);
        resolve({ stanzas: sent, wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 });
      }
    }, TICK_MS);
  });
}

async function sumSeries(target: string): Promise<number | undefined> {
  try {
    const url = `${graphiteWeb}/render?target=${encodeURIComponent(target)}&from=-10min&format=json`;
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return undefined;
    const series = (await res.json()) as Array<{ datapoints: Array<[number | null, number]> }>;
    return series.flatMap((s) => s.datapoints).reduce((a, [v]) => a + (v ?? 0), 0);
  } catch {
    return undefined;
  }
}

/** Reads back what landed until it stops growing (StatsD flushes every second; carbon follows). */
async function landed(target: string, expected: number, timeoutMs = 30_000): Promise<number | undefined> {
  const end = Date.now() + timeoutMs;
  let last: number | undefined;
  let stableSince = Date.now();
  while (Date.now() < end) {
    const v = await sumSeries(target);
    if (v !== undefined && v >= expected) return v;
    if (v !== last) stableSince = Date.now();
    else if (v !== undefined && v > 0 && Date.now() - stableSince > 8000) return v;
    last = v;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return last;
}

const pct = (x: number) => Math.round(x * 10_000) / 100;

// baseline: the same events with StatsD off (nobody listens to them)
const baseline = await drive(new Telemetry());

// the real wiring of createNode: settings -> startReporting -> StatsD sink + bridge
const settings = loadNodeSettings({
  env: {
    AMOC_STATSD_HOST: statsdHost,
    AMOC_STATSD_PORT: statsdPort,
    AMOC_METRICS_PREFIX: prefix,
    AMOC_NODE_NAME: nodeName,
  },
});
const telemetry = new Telemetry();
const reporting = startReporting(settings, telemetry, silentLogger());
const withStatsd = await drive(telemetry);
await reporting.close();

const base = `${prefix}.${nodeName}`;
const counted = await landed(`stats.counters.${base}.xmpp.messages_sent.count`, withStatsd.stanzas);
const timed = await landed(`stats.timers.${base}.xmpp.message_ttd.count`, withStatsd.stanzas);
const sentValues = 2 * withStatsd.stanzas;
const lost = counted === undefined || timed === undefined ? undefined : sentValues - counted - timed;
const extraCpuMs = withStatsd.cpuMs - baseline.cpuMs;

const rateAchieved = Math.round((withStatsd.stanzas * 1000) / withStatsd.wallMs);
const command = `node --import tsx bench/metrics-load.ts ${rate} ${durationS}`;
const at = `${rate.toLocaleString("en-US")} stanzas/s for ${durationS} s`;
recordFigures(
  [
    {
      figure: `metrics-load.${rate}.rate`,
      value: rateAchieved,
      unit: "stanzas/s",
      command,
      what: `rate achieved, asked ${at} (one counter + one timing each, through the real bridge and StatsD sink)`,
    },
    {
      figure: `metrics-load.${rate}.cpu`,
      value: pct(extraCpuMs / withStatsd.wallMs),
      unit: "% of a core",
      command,
      what: `CPU the metrics cost at ${at}: extra CPU against the same events with StatsD off (amoc-ts's cost)`,
    },
    {
      figure: `metrics-load.${rate}.loss`,
      value: lost === undefined ? "not measured (graphite down)" : pct(lost / sentValues),
      unit: lost === undefined ? "" : "%",
      command,
      what: `StatsD values lost at ${at}: sent against what the daemon flushed to carbon, read back from graphite-web`,
    },
  ],
  loadBefore,
);
console.log(
  JSON.stringify({
    bench: "metrics-load",
    target_rate_per_s: rate,
    duration_s: durationS,
    statsd: `${statsdHost}:${statsdPort}`,
    prefix: base,
    baseline: {
      stanzas: baseline.stanzas,
      rate_per_s: Math.round((baseline.stanzas * 1000) / baseline.wallMs),
      cpu_ms: Math.round(baseline.cpuMs),
      cpu_pct_of_core: pct(baseline.cpuMs / baseline.wallMs),
    },
    with_statsd: {
      stanzas: withStatsd.stanzas,
      rate_per_s: Math.round((withStatsd.stanzas * 1000) / withStatsd.wallMs),
      cpu_ms: Math.round(withStatsd.cpuMs),
      cpu_pct_of_core: pct(withStatsd.cpuMs / withStatsd.wallMs),
    },
    metrics_cpu_pct_of_core: pct(extraCpuMs / withStatsd.wallMs),
    metrics_cpu_us_per_stanza: Math.round((extraCpuMs * 1000 * 100) / withStatsd.stanzas) / 100,
    // a counter increment or a timing value each; what landed is what StatsD flushed to carbon
    values_sent: sentValues,
    values_landed: counted === undefined || timed === undefined ? null : counted + timed,
    counter_landed: counted ?? null,
    timings_landed: timed ?? null,
    loss_pct: lost === undefined ? null : pct(lost / sentValues),
    targets: { loss_pct: 0, metrics_cpu_pct_of_core: 5 },
    ok: lost === 0 && extraCpuMs / withStatsd.wallMs < 0.05,
  }),
);
process.exit(0);
