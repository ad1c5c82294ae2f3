/**
 * Which scraped series a run keeps (`sut_metrics_select`): metric-name globs (`*` any run of characters, `?` one),
 * each with optional label matchers (`prosody_mod_c2s__connections{type="c2s"}`). A selected metric is summed over
 * its label sets and over every URL (a cluster's nodes add up), and stored as `sut.<name>`; a counter is stored as its
 * rate, `sut.<name>_per_s`, since a total since the server started says nothing about this run.
 */
import { UsageError } from "../errors.js";
import { familyType, type Exposition } from "./openmetrics.js";

/** One selector: a name glob and the labels a sample must carry. */
export interface Selector {
  text: string;
  name: RegExp;
  labels: Record<string, string>;
}

/**
 * The series kept when `sut_metrics_select` is empty: the sessions and memory each known server exports. Prosody 0.12's
 * mod_http_openmetrics (c2s connections by type, BOSH sessions, and process_* where mod_measure_process runs),
 * MongooseIM's session-manager counts and VM memory, ejabberd's mod_prometheus, node_exporter's process_* and load.
 */
export const DEFAULT_SELECT: readonly string[] = [
  "process_*",
  'prosody_mod_c2s__connections{type="c2s"}',
  "prosody_mod_bosh__active_sessions",
  "prosody_mod_muc__live_room",
  "lua_heap_bytes",
  "sm_*sessions*",
  "erlang_vm_memory_bytes_total",
  "ejabberd_*",
  "node_load1",
  "node_memory_MemAvailable_bytes",
];

/** Where a known server counts its client sessions: stored also as `sut.sessions`, beside our users online. */
export const SESSION_SERIES: ReadonlyArray<{ name: string; labels: Record<string, string> }> = [
  { name: "prosody_mod_c2s__connections", labels: { type: "c2s" } },
];

/** Scraped names that mean what /proc measures: stored also under the sut.process_* name. */
export const PROCESS_ALIASES: Readonly<Record<string, string>> = {
  process_cpu_seconds_total_per_s: "sut.process_cpu",
  process_resident_memory_bytes: "sut.process_rss_bytes",
  process_open_fds: "sut.process_open_files",
};

const HINT =
  'AMOC_SUT_METRICS_SELECT is a comma-separated list of metric-name globs, each with optional label matchers, e.g. process_*,prosody_mod_c2s__connections{type="c2s"}';

/** Parses one selector; throws UsageError naming what is wrong. */
export function parseSelector(text: string): Selector {
  const m = /^([a-zA-Z0-9_:*?]+)(?:\{(.*)\})?$/.exec(text.trim());
  if (!m) throw new UsageError(`'${text}' is not a metric-name glob (letters, digits, _ : * ?)`, HINT);
  const labels: Record<string, string> = {};
  for (const part of (m[2] ?? "").split(",").filter((p) => p.trim() !== "")) {
    const l = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"\s*$/.exec(part);
    if (!l) throw new UsageError(`'${text}': '${part}' is not a label matcher like type="c2s"`, HINT);
    labels[l[1] as string] = l[2] as string;
  }
  const re = (m[1] as string).replace(/[*?]/g, (c) => (c === "*" ? ".*" : "."));
  return { text: text.trim(), name: new RegExp(`^${re}$`), labels };
}

/**
 * Splits `sut_metrics_select` into selectors: commas inside `{...}` belong to the label matchers, not the list.
 * Empty: DEFAULT_SELECT.
 */
export function parseSelect(list: readonly string[]): Selector[] {
  const joined = list.join(",");
  const parts: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of joined) {
    if (c === "{") depth++;
    if (c === "}") depth--;
    if (c === "," && depth === 0) {
      parts.push(cur);
      cur = "";
    } else cur += c;
  }
  parts.push(cur);
  const texts = parts.map((p) => p.trim()).filter(Boolean);
  return (texts.length ? texts : DEFAULT_SELECT).map(parseSelector);
}

const matches = (labels: Record<string, string>, want: Record<string, string>) =>
  Object.entries(want).every(([k, v]) => labels[k] === v);

/**
 * The selected values of one exposition summed per name: gauges as they are, counters (and histogram counts and sums)
 * as raw totals the caller turns into rates; and the sessions count of a known server.
 */
export function selectValues(
  e: Exposition,
  selectors: readonly Selector[],
): { gauges: Record<string, number>; counters: Record<string, number>; sessions?: number } {
  const gauges: Record<string, number> = {};
  const counters: Record<string, number> = {};
  // a known server's sessions family with no sample means none: Prosody prints no line for an empty gauge
  let sessions: number | undefined = SESSION_SERIES.some((sel) => e.types[sel.name]) ? 0 : undefined;
  for (const s of e.samples) {
    // a histogram's buckets and a counter's creation time are not series of their own
    if (s.name.endsWith("_bucket") || s.name.endsWith("_created") || !Number.isFinite(s.value)) continue;
    for (const sel of SESSION_SERIES)
      if (s.name === sel.name && matches(s.labels, sel.labels)) sessions = (sessions ?? 0) + s.value;
    if (!selectors.some((sel) => sel.name.test(s.name) && matches(s.labels, sel.labels))) continue;
    const type = familyType(e, s.name);
    const monotonic = type === "counter" || (/_(count|sum)$/.test(s.name) && /histogram|summary/.test(type));
    const into = monotonic ? counters : gauges;
    into[s.name] = (into[s.name] ?? 0) + s.value;
  }
  return sessions === undefined ? { gauges, counters } : { gauges, counters, sessions };
}
