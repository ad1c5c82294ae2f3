/**
 * What the server-under-test settings (sut_metrics_url, sut_metrics_select, sut_process) accept, checked when the
 * node's settings are read, so a bad value stops `bin/amoc` before any run starts, and their schema entries
 * (composed into config/schema.ts). src/sut/ reads them.
 */
import { setting } from "./setting.js";

/** The prefix of a sut_metrics_url entry naming ejabberd's mod_http_api instead of a /metrics endpoint. */
export const EJABBERD_API_SCHEME = "ejabberd-api+";

/** Why one sut_metrics_url entry is wrong (undefined: fine). */
export function sutUrlProblem(entry: string): string | undefined {
  const url = entry.startsWith(EJABBERD_API_SCHEME) ? entry.slice(EJABBERD_API_SCHEME.length) : entry;
  try {
    const u = new URL(url);
    if ((u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "") return undefined;
  } catch {
    // reported below
  }
  return `'${entry}' is not an http(s) URL such as http://127.0.0.1:5280/metrics or ejabberd-api+http://127.0.0.1:5280/api`;
}

/** Why sut_metrics_select is wrong: each glob holds letters, digits, _ : * ? and may end in {label="value",...}. */
export function sutSelectProblem(list: readonly string[]): string | undefined {
  const joined = list.join(",");
  const bad = joined
    .replace(/\{[^{}]*\}/g, "")
    .split(",")
    .map((g) => g.trim())
    .filter((g) => g !== "" && !/^[a-zA-Z0-9_:*?]+$/.test(g));
  if (bad.length || /[{}]/.test(joined.replace(/\{[^{}]*\}/g, "")))
    return `must be metric-name globs (letters, digits, _ : * ?), each with optional {label="value"} matchers; bad: '${bad.join("', '") || joined}'`;
  return undefined;
}

/** Why sut_process is wrong: '' (off), a pid, a pid file's absolute path, or a process name. */
export function sutProcessProblem(v: string): string | undefined {
  if (v === "" || /^\d+$/.test(v) || v.startsWith("/") || /^[^\s/]+$/.test(v)) return undefined;
  return `must be a pid, a pid file's absolute path or a process name (e.g. prosody), got '${v}'`;
}

/** The schema entries of the server under test, sampled into every run (docs/metrics.md "The server under test"). */
export const SUT_SETTINGS = {
  sut_metrics_url: setting({
    doc: "the server's Prometheus/OpenMetrics endpoints scraped every results interval, comma-separated (e.g. http://127.0.0.1:5280/metrics); ejabberd-api+http://HOST:PORT/api polls ejabberd's mod_http_api instead ('' = off)",
    format: "sut-url-list",
    default: [],
  }),
  sut_metrics_select: setting({
    doc: "metric-name globs kept from sut_metrics_url, each with optional label matchers, e.g. process_*,prosody_mod_c2s__connections{type=\"c2s\"} ('' = the defaults for Prosody, MongooseIM, ejabberd, node_exporter)",
    format: "sut-select",
    default: [],
  }),
  sut_process: setting({
    doc: "the server's process on this machine, sampled from /proc every results interval (CPU, RSS, open files): a pid, a pid file's path or a process name ('' = off)",
    format: "sut-process",
    default: "",
  }),
};
