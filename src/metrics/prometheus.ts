/**
 * The Prometheus adapter (the only importer of prom-client): the same telemetry events the StatsD bridge reads become
 * `amoc_*` series in base units, labelled `node`, `scenario`, `run_id` (never a user id), served as text by GET /metrics
 * on the REST server and on `prometheus_port`. Timings are histograms with XMPP buckets, so `histogram_quantile` over
 * the sum of every node's buckets gives a cluster percentile.
 */
import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Logger } from "../log.js";
import type { Telemetry } from "../telemetry.js";
import { subscribeMeasurements } from "./measurements.js";
import * as names from "./names.js";
import type { ProcessSample } from "./process-sampler.js";

/** Seconds: sub-millisecond local round trips to tens of seconds under overload. */
export const XMPP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const LABELS = ["node", "scenario", "run_id"] as const;

/** A telemetry metric name as a Prometheus name: `amoc_` prefix, anything outside [a-zA-Z0-9_] becomes `_`. */
export function promName(name: string): string {
  const s = name
    .replace(/[^A-Za-z0-9_]/g, "_")
    .replace(/_+/g, "_")
    .replace(/^_|_$/g, "");
  return `amoc_${s}`;
}

/** A counter's name: base name + `_total`. */
export function counterName(name: string): string {
  return `${promName(name)}_total`;
}

/** A timing's name: base name + `_seconds` (values arrive in ms). */
export function timingName(name: string): string {
  return `${promName(name)}_seconds`;
}

/** A label value: bounded length, and a value that looks like a user id (a JID) never passes. */
export function labelValue(v: unknown): string {
  const s = typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
  return s.includes("@") ? "" : s.slice(0, 128);
}

/** What the adapter reads. */
export interface PrometheusOptions {
  telemetry: Telemetry;
  nodeName: string;
  /** Process health, read at each scrape (the process's one sampler). */
  sampler?: { sample(): ProcessSample };
}

/** Subscribes to a node's telemetry and keeps its Prometheus series. */
export class PrometheusMetrics {
  readonly registry = new Registry();
  private readonly counters = new Map<string, Counter<string>>();
  private readonly histograms = new Map<string, Histogram<string>>();
  private readonly gauges = new Map<string, Gauge<string>>();
  private readonly offs: Array<() => void>;
  private scenario = "";
  private runId = "";
  private readonly runInfo: Gauge<string>;
  private readonly crashes: Counter<string>;

  constructor(private readonly o: PrometheusOptions) {
    const t = o.telemetry;
    const label = "prometheus";
    this.runInfo = new Gauge({
      name: "amoc_run_info",
      help: "1 for the run in progress on this node (annotations)",
      labelNames: ["node", "run_id", "scenario"],
      registers: [this.registry],
    });
    this.crashes = new Counter({
      name: "amoc_users_crashed_by_reason_total",
      help: "users whose start() threw, by phase",
      labelNames: [...LABELS, "reason"],
      registers: [this.registry],
    });
    const sampler = o.sampler;
    this.gauge("users.running", "users running on this node");
    if (sampler) {
      const proc = (n: string, help: string, read: (p: ProcessSample) => number | undefined) => {
        const g: Gauge<string> = new Gauge({
          name: n,
          help,
          labelNames: ["node"],
          registers: [this.registry],
          collect() {
            const v = read(sampler.sample());
            if (v !== undefined) g.set({ node: o.nodeName }, v);
          },
        });
      };
      proc(
        "amoc_process_event_loop_lag_p99_seconds",
        "event-loop delay p99 of the last window",
        (p) => p.eventLoopLagP99Ms / 1000,
      );
      proc("amoc_process_heap_used_bytes", "V8 heap in use", (p) => p.heapUsedBytes);
      proc("amoc_process_resident_memory_bytes", "resident set size", (p) => p.rssBytes);
      proc("amoc_process_open_fds", "open file descriptors, sockets included", (p) => p.openFds);
      proc("amoc_process_cpu_ratio", "CPU time of the last window as a fraction of one core", (p) => p.cpuPct / 100);
    }
    this.offs = [
      subscribeMeasurements(
        t,
        {
          count: (name, v) => this.count(name, v),
          timing: (name, ms) => this.timing(name, ms),
          gauge: (name, v) => this.setGauge(name, v),
          running: (n) => this.setGauge(names.USERS_RUNNING, n),
          crashed: (e) => this.crashes.inc({ ...this.labels(), reason: labelValue(e.phase) || "unknown" }),
        },
        label,
      ),
      t.on(
        "controller.state",
        (e) => {
          if (e.scenario !== null) this.scenario = labelValue(e.scenario);
          // workers do not announce runs (their master does): a run starting here still marks the series
          if (e.state === "running" && e.scenario !== null) this.markRun();
        },
        label,
      ),
      t.on(
        "run.event",
        (e) => {
          if (e.kind !== "do") return;
          this.scenario = labelValue(e.data.scenario) || this.scenario;
          this.runId = labelValue(e.data.run_id);
          this.markRun();
        },
        label,
      ),
      t.on(
        "run.joined",
        (e) => {
          this.scenario = labelValue(e.scenario) || this.scenario;
          this.runId = labelValue(e.run_id);
          this.markRun();
        },
        label,
      ),
    ];
    this.setGauge(names.USERS_RUNNING, 0);
  }

  /** The exposition text (text/plain; version=0.0.4). */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private markRun(): void {
    this.runInfo.reset();
    this.runInfo.set({ node: this.o.nodeName, run_id: this.runId, scenario: this.scenario }, 1);
  }

  private labels(): Record<string, string> {
    return { node: this.o.nodeName, scenario: this.scenario, run_id: this.runId };
  }

  private gauge(name: string, help: string): Gauge<string> {
    const n = promName(name);
    let g = this.gauges.get(n);
    if (!g) {
      g = new Gauge({ name: n, help, labelNames: [...LABELS], registers: [this.registry] });
      this.gauges.set(n, g);
    }
    return g;
  }

  private setGauge(name: string, value: number): void {
    const g = this.gauge(name, `gauge ${name}`);
    if (name === names.USERS_RUNNING) g.reset();
    g.set(this.labels(), value);
  }

  private count(name: string, value: number): void {
    const n = counterName(name);
    let c = this.counters.get(n);
    if (!c) {
      c = new Counter({ name: n, help: `counter ${name}`, labelNames: [...LABELS], registers: [this.registry] });
      this.counters.set(n, c);
    }
    if (value > 0) c.inc(this.labels(), value);
  }

  private timing(name: string, ms: number): void {
    const n = timingName(name);
    let h = this.histograms.get(n);
    if (!h) {
      h = new Histogram({
        name: n,
        help: `timing ${name}, seconds`,
        labelNames: [...LABELS],
        buckets: XMPP_BUCKETS,
        registers: [this.registry],
      });
      this.histograms.set(n, h);
    }
    h.observe(this.labels(), ms / 1000);
  }

  close(): void {
    for (const off of this.offs) off();
  }
}

/**
 * Serves GET /metrics of `m` alone on `port` (workers without a REST API). Listening is logged (`prometheus_enabled`,
 * with the port, which 0 picks), and so is a port that cannot be bound: the run goes on without the endpoint.
 */
export function servePrometheus(m: PrometheusMetrics, port: number, host: string, log: Logger): Server {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("only GET /metrics here\n");
      return;
    }
    m.metrics().then(
      (text) => res.writeHead(200, { "content-type": m.contentType }).end(text),
      (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(String(e)),
    );
  });
  server.on("error", (e) =>
    log.error({
      msg: "prometheus_listen_failed",
      host,
      port,
      err: e.message,
      hint: "choose a free AMOC_PROMETHEUS_PORT (0 = any free port) or unset it",
    }),
  );
  server.listen(port, host, () => {
    const a = server.address();
    log.info({ msg: "prometheus_enabled", host, port: typeof a === "object" && a ? a.port : port, path: "/metrics" });
  });
  return server;
}
