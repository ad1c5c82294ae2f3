/**
 * The Prometheus text format (0.0.4) and OpenMetrics 1.0 text, parsed: every sample with its labels, and each family's
 * TYPE. A few dozen lines instead of a dependency: the servers we scrape (Prosody's mod_http_openmetrics, MongooseIM,
 * node_exporter) print the plain subset, and an npm parser for it is either unmaintained or pulls in a client library.
 */

/** One sample line: `name{labels} value`. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition: its samples in order and `# TYPE` of each family (counter, gauge, histogram, ...). */
export interface Exposition {
  samples: MetricSample[];
  types: Record<string, string>;
}

/** A line that is neither a comment nor a sample; `line` is 1-based. */
export class OpenMetricsSyntaxError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;

/** A sample value: a float, or NaN / +Inf / -Inf as both formats spell them. */
function parseValue(v: string): number | undefined {
  const lower = v.toLowerCase();
  if (lower === "nan") return NaN;
  if (lower === "+inf" || lower === "inf") return Infinity;
  if (lower === "-inf") return -Infinity;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) return undefined;
  return Number(v);
}

/** `{a="1",b="x\"y"}` from `s` at 0; returns the labels and where the block ended. */
function parseLabels(s: string, lineNo: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = 1;
  for (;;) {
    while (s[i] === " ") i++;
    if (s[i] === "}") return { labels, end: i + 1 };
    const m = LABEL.exec(s.slice(i));
    if (!m) throw new OpenMetricsSyntaxError(lineNo, `bad label name at column ${i + 1}`);
    i += m[0].length;
    if (s[i] !== "=" || s[i + 1] !== '"') throw new OpenMetricsSyntaxError(lineNo, `expected ="..." after ${m[0]}`);
    i += 2;
    let v = "";
    for (;;) {
      const c = s[i];
      if (c === undefined) throw new OpenMetricsSyntaxError(lineNo, "unterminated label value");
      if (c === '"') break;
      if (c === "\\") {
        const n = s[i + 1];
        v += n === "n" ? "\n" : (n ?? "");
        i += 2;
      } else {
        v += c;
        i++;
      }
    }
    labels[m[0]] = v;
    i++;
    while (s[i] === " ") i++;
    if (s[i] === ",") i++;
    else if (s[i] !== "}") throw new OpenMetricsSyntaxError(lineNo, `expected , or } at column ${i + 1}`);
  }
}

/** Parses an exposition; throws OpenMetricsSyntaxError naming the first bad line. */
export function parseOpenMetrics(text: string): Exposition {
  const samples: MetricSample[] = [];
  const types: Record<string, string> = {};
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).replace(/\r$/, "").trim();
    if (line === "") continue;
    if (line.startsWith("#")) {
      const t = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (t) types[t[1] as string] = t[2] as string;
      continue;
    }
    const m = NAME.exec(line);
    if (!m) throw new OpenMetricsSyntaxError(n + 1, `not a metric name: '${line.slice(0, 40)}'`);
    let rest = line.slice(m[0].length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) {
      const l = parseLabels(rest, n + 1);
      labels = l.labels;
      rest = rest.slice(l.end);
    }
    // the value, then an optional timestamp (and OpenMetrics' optional exemplar after '#')
    const fields = (rest.split("#")[0] as string).trim().split(/\s+/);
    const value = parseValue(fields[0] ?? "");
    if (value === undefined)
      throw new OpenMetricsSyntaxError(n + 1, `'${fields[0] ?? ""}' is not a sample value of ${m[0]}`);
    samples.push({ name: m[0], labels, value });
  }
  return { samples, types };
}

const SUFFIXES = ["_total", "_created", "_count", "_sum", "_bucket", "_gcount", "_gsum", "_info"];

/** The TYPE of the family a sample belongs to (`x_total` of counter `x`); untyped `*_total` counts as a counter. */
export function familyType(e: Exposition, name: string): string {
  const direct = e.types[name];
  if (direct) return direct;
  for (const s of SUFFIXES)
    if (name.endsWith(s)) {
      const t = e.types[name.slice(0, -s.length)];
      if (t) return t;
    }
  return name.endsWith("_total") ? "counter" : "untyped";
}
