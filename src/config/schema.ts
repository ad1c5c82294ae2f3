/** The node settings: one convict schema, every key readable from `AMOC_<UPPER_SNAKE>`. */
import { hostname } from "node:os";
import { fileURLToPath } from "node:url";

/** The repository's own scenarios, so `bin/amoc` finds them from any working directory. */
const BUNDLED_SCENARIOS = fileURLToPath(new URL("../../scenarios", import.meta.url));

/** A schema entry; `run` marks keys a run's settings may override. */
export interface SettingSpec {
  doc: string;
  format: string;
  default: unknown;
  /** May be given per run (`do(..., settings)`, `--set`) rather than only per node. */
  run?: boolean;
  sensitive?: boolean;
}

/** Every node setting, with its doc, format and default. */
export const SCHEMA = {
  interarrival: { doc: "ms between two user starts, cluster-wide (0 = all at once)", format: "duration-ms", default: 50, run: true },
  repeat_interval: { doc: "ms between two runs of start() by one user", format: "duration-ms", default: 60_000, run: true },
  repeat_num: { doc: "how many times each user runs start() ('infinity' allowed)", format: "count", default: Infinity as number, run: true },
  node_name: { doc: "this node's name in the cluster and in metric names", format: "non-empty", default: `${hostname().split(".")[0]}-${process.pid}` },
  node_labels: { doc: "labels for selecting nodes, key=value pairs (zone=a,rack=1)", format: "labels", default: {} as Record<string, string> },
  scenarios_dir: { doc: "directory where scenarios are looked up by name", format: "text", default: BUNDLED_SCENARIOS },
  log_level: { doc: "log level: fatal, error, warn, info, debug, trace, silent", format: "log-level", default: "info" },
  log_file: { doc: "log file ('' = stderr)", format: "text", default: "" },
  nats_url: { doc: "NATS servers, comma-separated", format: "string-list", default: ["nats://127.0.0.1:4222"] },
  nats_user: { doc: "NATS user name ('' = none)", format: "text", default: "" },
  nats_password: { doc: "NATS password", format: "text", default: "", sensitive: true },
  nats_token: { doc: "NATS token ('' = none)", format: "text", default: "", sensitive: true },
  nats_tls_ca: { doc: "CA file for NATS TLS ('' = no TLS options)", format: "text", default: "" },
  nats_timeout: { doc: "ms to wait for a node's reply to a command", format: "duration-ms", default: 5000 },
  cluster_name: { doc: "cluster name: prefixes every NATS subject and bucket, so clusters can share a NATS", format: "non-empty", default: "amoc" },
  api_host: { doc: "REST API listen address", format: "text", default: "127.0.0.1" },
  api_port: { doc: "REST API port", format: "tcp-port", default: 4000 },
  api_token: { doc: "bearer token required by the REST API ('' = none)", format: "text", default: "", sensitive: true },
  api_tls_cert: { doc: "PEM certificate file: the REST API serves HTTPS ('' = plain HTTP)", format: "text", default: "" },
  api_tls_key: { doc: "PEM private key file of api_tls_cert", format: "text", default: "" },
  data_dir: { doc: "data directory of this node: pid, log, attach socket, uploaded scenarios, run store ('' = .run/amoc/<node name>)", format: "text", default: "" },
  statsd_host: { doc: "StatsD host ('' = metrics off)", format: "text", default: "" },
  statsd_port: { doc: "StatsD UDP port", format: "tcp-port", default: 8125 },
  metrics_prefix: { doc: "first element of every metric name", format: "non-empty", default: "amoc" },
  graphite_events_url: { doc: "graphite-web events API for annotations ('' = off)", format: "text", default: "" },
  xmpp_servers: { doc: "XMPP endpoints (xmpp://, xmpps://, ws://, wss://), comma-separated; user id picks one", format: "string-list", default: ["xmpp://127.0.0.1:5222"], run: true },
  xmpp_domain: { doc: "XMPP domain of the users ('' = the server's host name)", format: "text", default: "localhost", run: true },
  xmpp_user_template: { doc: "user name template; <id> is replaced by the user id", format: "non-empty", default: "user_<id>", run: true },
  xmpp_password_template: { doc: "password template; <id> is replaced by the user id", format: "non-empty", default: "password_<id>", run: true },
  xmpp_sasl_mechanism: { doc: "SASL mechanism: PLAIN, SCRAM-SHA-1, SCRAM-SHA-256 or auto", format: "non-empty", default: "PLAIN", run: true },
  xmpp_starttls: { doc: "negotiate STARTTLS on xmpp:// endpoints (for servers that require encryption on 5222)", format: "bool", default: false, run: true },
  xmpp_tls_verify: { doc: "verify the server certificate (turn off only for test servers)", format: "bool", default: true, run: true },
  xmpp_connect_timeout: { doc: "ms allowed for one connection attempt (TCP, TLS, stream, auth, bind)", format: "duration-ms", default: 20_000, run: true },
  xmpp_connect_retries: { doc: "extra connection attempts after a failed one", format: "tcp-port", default: 0, run: true },
  xmpp_stream_management: { doc: "enable XEP-0198 stream management when the server offers it", format: "bool", default: false, run: true },
} satisfies Record<string, SettingSpec>;

export type SettingKey = keyof typeof SCHEMA;

/** The parsed node settings. */
export interface NodeSettings {
  interarrival: number;
  repeat_interval: number;
  repeat_num: number;
  node_name: string;
  node_labels: Record<string, string>;
  scenarios_dir: string;
  log_level: string;
  log_file: string;
  nats_url: string[];
  nats_user: string;
  nats_password: string;
  nats_token: string;
  nats_tls_ca: string;
  nats_timeout: number;
  cluster_name: string;
  api_host: string;
  api_port: number;
  api_token: string;
  api_tls_cert: string;
  api_tls_key: string;
  data_dir: string;
  statsd_host: string;
  statsd_port: number;
  metrics_prefix: string;
  graphite_events_url: string;
  xmpp_servers: string[];
  xmpp_domain: string;
  xmpp_user_template: string;
  xmpp_password_template: string;
  xmpp_sasl_mechanism: string;
  xmpp_starttls: boolean;
  xmpp_tls_verify: boolean;
  xmpp_connect_timeout: number;
  xmpp_connect_retries: number;
  xmpp_stream_management: boolean;
}

/** The env name of a key: `interarrival` -> `AMOC_INTERARRIVAL`. */
export function envName(key: string): string {
  return `AMOC_${key.toUpperCase()}`;
}

/** True for keys that a run's settings may set. */
export function isRunKey(key: string): key is SettingKey {
  return key in SCHEMA && (SCHEMA as Record<string, SettingSpec>)[key]?.run === true;
}

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SCHEMA, key);
}
