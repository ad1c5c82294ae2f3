/** The node settings: one convict schema, every key readable from `AMOC_<UPPER_SNAKE>`. */
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";
import type { FormatType } from "./formats.js";
import { setting, type SettingSpec } from "./setting.js";
import { SUT_SETTINGS } from "./sut-settings.js";
import { XMPP_SETTINGS } from "./xmpp-settings.js";

/** The repository's own scenarios, so `bin/amoc` finds them from any working directory. */
const BUNDLED_SCENARIOS = fileURLToPath(new URL("../../scenarios", import.meta.url));

/** `<short host name>-<pid>`, reduced to the characters and the length a node name may hold (config/names.ts). */
function defaultNodeName(): string {
  const pid = `-${process.pid}`;
  const host =
    hostname()
      .split(".")[0]
      ?.replace(/[^A-Za-z0-9_-]/g, "_") || "node";
  return host.slice(0, 64 - pid.length) + pid;
}

/** Every node setting, with its doc, format and default. */
export const SCHEMA = {
  interarrival: setting({
    doc: "ms between two user starts, cluster-wide (0 = all at once)",
    format: "duration-ms",
    default: 50,
    run: true,
  }),
  repeat_interval: setting({
    doc: "ms between two runs of start() by one user",
    format: "duration-ms",
    default: 60_000,
    run: true,
  }),
  repeat_num: setting({
    doc: "how many times each user runs start() ('infinity' allowed)",
    format: "count",
    default: Infinity,
    run: true,
  }),
  stages: setting({
    doc: 'closed-model load shape: JSON list of {duration, target} (users), e.g. [{"duration":"60s","target":1000},{"duration":"30s","target":0}] ([] = off: users and interarrival)',
    format: "stages",
    default: [],
    run: true,
  }),
  arrival_rate: setting({
    doc: "open-model load shape: JSON list of {duration, target} (new users per second, ramped from the previous target, starting at 0) ([] = off)",
    format: "stages",
    default: [],
    run: true,
  }),
  arrival_process: setting({
    doc: "how open-model arrivals are spread: constant (evenly) or poisson",
    format: "arrival-process",
    default: "constant",
    run: true,
  }),
  throttles: setting({
    doc: 'throttles started with the run, cluster-wide rates: JSON {"msg": {"rate": 1000, "interval": 1000}} or {"msg": {"interarrival": 10}} ({} = none)',
    format: "throttles",
    default: {},
    run: true,
  }),
  mix: setting({
    doc: 'several scenarios in one run by weight, JSON {"one_to_one": 3, "muc": 1} ({} = off: the one scenario named)',
    format: "mix",
    default: {},
    run: true,
  }),
  node_name: setting({
    doc: "this node's name in the cluster and in metric names (1 to 64 letters, digits, _ and -)",
    format: "node-name",
    default: defaultNodeName(),
  }),
  node_labels: setting({
    doc: "labels for selecting nodes, key=value pairs (zone=a,rack=1)",
    format: "labels",
    default: {},
  }),
  scenarios_dir: setting({
    doc: "directory where scenarios are looked up by name",
    format: "directory",
    default: BUNDLED_SCENARIOS,
  }),
  log_level: setting({
    doc: "log level: fatal, error, warn, info, debug, trace, silent",
    format: "log-level",
    default: "info",
  }),
  log_file: setting({ doc: "log file ('' = stderr)", format: "file-path-or-empty", default: "" }),
  log_format: setting({
    doc: "amoc run and amoc scenarios: file (JSON log lines to log_file, else <run dir>/log/amoc-run.log; the terminal shows people's messages only) or json (JSON lines on stderr; amoc run --log json)",
    format: "log-format",
    default: "file",
  }),
  nats_url: setting({
    doc: "NATS servers, comma-separated (nats://host:4222, tls://host:4222 or host:4222)",
    format: "nats-url-list",
    default: ["nats://127.0.0.1:4222"],
  }),
  nats_user: setting({ doc: "NATS user name ('' = none)", format: "token", default: "" }),
  nats_password: setting({ doc: "NATS password", format: "password", default: "", sensitive: true }),
  nats_token: setting({ doc: "NATS token ('' = none)", format: "token", default: "", sensitive: true }),
  nats_tls_ca: setting({ doc: "CA file for NATS TLS ('' = no TLS options)", format: "file-or-empty", default: "" }),
  nats_timeout: setting({ doc: "ms to wait for a node's reply to a command", format: "timeout-ms", default: 5000 }),
  cluster_name: setting({
    doc: "cluster name: prefixes every NATS subject and bucket, so clusters can share a NATS",
    format: "name",
    default: "amoc",
  }),
  api_host: setting({ doc: "REST API listen address", format: "host", default: "127.0.0.1" }),
  api_port: setting({
    doc: "REST API and dashboard port: console, worker and start serve them only when AMOC_API_PORT is set (0 = any free port)",
    format: "listen-port",
    default: 4000,
    defaultText: "unset: no REST API; bin/amoc upload tries 4000",
  }),
  api_token: setting({
    doc: "bearer token required by the REST API ('' = the node generates one at start and keeps it in its data directory, 0600)",
    format: "api-token",
    default: "",
    sensitive: true,
  }),
  api_auth: setting({
    doc: "REST API authentication: token (always) or off (no token; only with api_token '' and a loopback api_host)",
    format: "api-auth",
    default: "token",
  }),
  api_allowed_hosts: setting({
    doc: "host names (besides localhost, 127.0.0.1, [::1] and api_host) that a request's Host header may name, comma-separated",
    format: "host-list",
    default: [],
  }),
  api_uploads: setting({
    doc: "accept scenario uploads over REST (an uploaded scenario is code that runs with this node's rights)",
    format: "bool",
    default: true,
  }),
  api_tls_cert: setting({
    doc: "PEM certificate file: the REST API serves HTTPS ('' = plain HTTP); needs api_tls_key",
    format: "file-or-empty",
    default: "",
  }),
  api_tls_key: setting({ doc: "PEM private key file of api_tls_cert", format: "file-or-empty", default: "" }),
  data_dir: setting({
    doc: "data directory of this node: pid, log, attach socket, uploaded scenarios, run store ('' = .run/amoc/<node name>)",
    format: "directory-or-empty",
    default: "",
  }),
  results_interval: setting({
    doc: "ms per interval of a run's time series in the run store and the HTML report (e.g. 1s)",
    format: "timeout-ms",
    default: 1000,
    run: true,
  }),
  statsd_host: setting({ doc: "StatsD host ('' = metrics off)", format: "host-or-empty", default: "" }),
  statsd_port: setting({ doc: "StatsD UDP port", format: "tcp-port", default: 8125 }),
  prometheus_port: setting({
    doc: "port of a node's own GET /metrics for Prometheus, for workers serving no REST API (0 = any free port)",
    format: "listen-port",
    default: 9464,
    defaultText: "unset: no Prometheus port (GET /metrics is on the REST API when AMOC_API_PORT is set)",
  }),
  prometheus_host: setting({
    doc: "listen address of prometheus_port",
    format: "host",
    default: "127.0.0.1",
  }),
  ...SUT_SETTINGS,
  metrics_prefix: setting({ doc: "first element of every metric name", format: "metric-prefix", default: "amoc" }),
  graphite_events_url: setting({
    doc: "graphite-web events API for annotations ('' = off)",
    format: "http-url-or-empty",
    default: "",
  }),
  ...XMPP_SETTINGS,
};

export type SettingKey = keyof typeof SCHEMA;

/** The parsed node settings: each key has the type of its format (derived from SCHEMA, one source). */
export type NodeSettings = {
  [K in SettingKey]: (typeof SCHEMA)[K] extends SettingSpec<infer F> ? FormatType<F> : never;
};

/** Checks between keys, after each key is valid on its own: a problem names the keys involved. */
export function crossKeyProblems(s: NodeSettings): Array<{ key: SettingKey; message: string }> {
  const out: Array<{ key: SettingKey; message: string }> = [];
  if ((s.api_tls_cert === "") !== (s.api_tls_key === "")) {
    out.push({
      key: s.api_tls_cert === "" ? "api_tls_cert" : "api_tls_key",
      message: `api_tls_cert and api_tls_key go together: set both (HTTPS) or neither (HTTP); ${envName(s.api_tls_cert === "" ? "api_tls_cert" : "api_tls_key")} is missing`,
    });
  }
  if (s.api_auth === "off" && s.api_token !== "") {
    out.push({
      key: "api_auth",
      message:
        "api_auth=off turns the token off, but api_token is set: unset AMOC_API_TOKEN or set AMOC_API_AUTH=token",
    });
  }
  return out;
}

/** The env name of a key: `interarrival` -> `AMOC_INTERARRIVAL`. */
export function envName(key: string): string {
  return `AMOC_${key.toUpperCase()}`;
}

/** True for keys that a run's settings may set. */
export function isRunKey(key: string): key is SettingKey {
  return key in SCHEMA && (SCHEMA as Record<string, SettingSpec>)[key]?.run === true;
}

/** True for every key of the schema. */
export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SCHEMA, key);
}
