/** The names of the metrics the core itself reports, relative to `<metrics_prefix>.<node_name>.`; docs/metrics.md lists them. */
import { SUBSCRIBER_FAILURES_METRIC } from "../telemetry.js";

/** Users running on this node (gauge, sent on change at most every 100 ms, and once a second). */
export const USERS_RUNNING = "users.running";
/** Users started (counter). */
export const USERS_STARTED = "users.started";
/** Users whose `start()` ran its last repetition and returned (counter). */
export const USERS_FINISHED = "users.finished";
/** Users removed by `remove` or `stop` (counter). */
export const USERS_REMOVED = "users.removed";
/** Users whose `start()` threw (counter). */
export const USERS_CRASHED = "users.crashed";
/** How late a user started against its planned instant (timing, ms). */
export const USERS_START_LAG = "users.start_lag";
/** Duration of a scenario's `init` (timing, ms). */
export const SCENARIO_INIT = "scenario.init";
/** Scenario `init` calls that threw (counter). */
export const SCENARIO_INIT_FAILURES = "scenario.init_failures";
/** Duration of a scenario's `terminate` (timing, ms). */
export const SCENARIO_TERMINATE = "scenario.terminate";
/** Event-loop delay, 99th percentile over the last second (gauge, ms). */
export const EVENT_LOOP_LAG_P99 = "process.event_loop_lag_p99_ms";
/** V8 heap in use (gauge, bytes). */
export const HEAP_USED = "process.heap_used_bytes";
/** Resident set size (gauge, bytes). */
export const RSS = "process.rss_bytes";
/** Open file descriptors, sockets included (gauge). */
export const OPEN_FDS = "process.open_fds";

/** Times a telemetry subscriber threw (counter; the bus itself reports it, see src/telemetry.ts). */
export const TELEMETRY_SUBSCRIBER_FAILURES = SUBSCRIBER_FAILURES_METRIC;

/** Every name above: the docs test checks each one is documented. */
export const CORE_METRIC_NAMES: readonly string[] = [
  USERS_RUNNING,
  USERS_STARTED,
  USERS_FINISHED,
  USERS_REMOVED,
  USERS_CRASHED,
  USERS_START_LAG,
  SCENARIO_INIT,
  SCENARIO_INIT_FAILURES,
  SCENARIO_TERMINATE,
  EVENT_LOOP_LAG_P99,
  HEAP_USED,
  RSS,
  OPEN_FDS,
  TELEMETRY_SUBSCRIBER_FAILURES,
];

/** Any text as one Graphite path element: dots and anything StatsD would mangle become `_`. */
export function pathElement(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]/g, "_");
}

/** `<prefix>.<node>.`: what every metric name of this node starts with. */
export function nodePrefix(metricsPrefix: string, nodeName: string): string {
  const prefix = metricsPrefix.split(".").map(pathElement).join(".");
  return `${prefix}.${pathElement(nodeName)}.`;
}

/**
 * The XMPP helpers' own metrics (docs/metrics.md), named here too so thresholds can tell a typo of one before the run
 * and count a counter never incremented as 0. `COUNTER_FAMILIES` are counters with a per-reason/kind tail.
 */
export const XMPP_TIMING_NAMES: readonly string[] = ["xmpp.connection", "xmpp.registration", "xmpp.message_ttd"];
export const XMPP_COUNTER_NAMES: readonly string[] = [
  "xmpp.connections",
  "xmpp.connection_failures",
  "xmpp.registrations",
  "xmpp.registration_failures",
  "xmpp.registration_conflicts",
  "xmpp.messages_sent",
  "xmpp.messages_received",
  "xmpp.message_errors",
  "xmpp.groupchat_echoes",
  "xmpp.stanzas_buffered",
  "xmpp.stanzas_dropped",
  "xmpp.timeouts",
  "xmpp.disconnections",
  "xmpp.connections_lost",
  "xmpp.resumptions",
  "xmpp.resumption_failures",
];
export const COUNTER_FAMILIES: readonly string[] = [
  "xmpp.connection_failures.",
  "xmpp.iq_errors.",
  "xmpp.iq_timeouts.",
];
