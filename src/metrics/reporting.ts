/** Builds a node's metric reporting from its settings: StatsD sink + telemetry bridge, and Graphite annotations. */
import type { NodeSettings } from "../config/schema.js";
import { ConfigError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Telemetry } from "../telemetry.js";
import { GraphiteAnnotations } from "./annotations.js";
import { MetricsBridge } from "./bridge.js";
import { nodePrefix } from "./names.js";
import { processSampler } from "./process-sampler.js";
import { PrometheusMetrics } from "./prometheus.js";
import { StatsdSink } from "./statsd.js";

/** What `startReporting` built; `close` flushes and releases it all, bounded in time. */
export interface Reporting {
  readonly bridge: MetricsBridge | undefined;
  readonly annotations: GraphiteAnnotations | undefined;
  /** The node's Prometheus series, kept only when something serves them (GET /metrics, prometheus_port). */
  readonly prometheus: PrometheusMetrics | undefined;
  close(): Promise<void>;
}

/** Checks `graphite_events_url` up front: a typo should stop the node, not fail every POST of a long run. */
function eventsUrl(raw: string): string {
  let u: URL | undefined;
  try {
    u = new URL(raw);
  } catch {
    u = undefined;
  }
  if (!u || (u.protocol !== "http:" && u.protocol !== "https:")) {
    throw new ConfigError([
      {
        key: "graphite_events_url",
        source: "AMOC_GRAPHITE_EVENTS_URL",
        message: `must be an http(s) URL such as http://127.0.0.1:8080/events/, got '${raw}'`,
      },
    ]);
  }
  return u.href;
}

/**
 * Starts StatsD reporting when `statsd_host` is set, annotations when `graphite_events_url` is set and the Prometheus
 * series when `servePrometheus` says something will serve them (a histogram per timing costs every event: a node
 * nobody scrapes keeps none).
 */
export function startReporting(
  settings: NodeSettings,
  telemetry: Telemetry,
  log: Logger,
  servePrometheus = false,
): Reporting {
  const url = settings.graphite_events_url.trim() === "" ? undefined : eventsUrl(settings.graphite_events_url.trim());
  let sink: StatsdSink | undefined;
  let bridge: MetricsBridge | undefined;
  const host = settings.statsd_host.trim();
  if (host !== "") {
    const prefix = nodePrefix(settings.metrics_prefix, settings.node_name);
    sink = new StatsdSink({ host, port: settings.statsd_port, prefix, log });
    bridge = new MetricsBridge({ telemetry, sink, sampler: processSampler() });
    log.info({ msg: "statsd_enabled", host, port: settings.statsd_port, prefix });
  }
  const annotations = url ? new GraphiteAnnotations({ telemetry, url, nodeName: settings.node_name, log }) : undefined;
  if (url) log.info({ msg: "annotations_enabled", url });
  const prometheus = servePrometheus
    ? new PrometheusMetrics({ telemetry, nodeName: settings.node_name, sampler: processSampler() })
    : undefined;
  return {
    bridge,
    annotations,
    prometheus,
    async close() {
      prometheus?.close();
      bridge?.close();
      await Promise.all([sink?.close(), annotations?.close()]);
    },
  };
}
