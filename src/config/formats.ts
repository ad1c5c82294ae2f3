/** Custom convict formats: durations in ms, counts with `infinity`, lenient booleans, lists and labels. */
import convict from "convict";

/** Parses "50", "50ms", "2s", "1.5m", "1h" into milliseconds; undefined when unparsable. */
export function parseDurationMs(v: string | number): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) && v >= 0 ? v : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? "ms") as "ms" | "s" | "m" | "h"];
  return Math.round(n * mult);
}

/** Parses a positive count or `infinity` (as `Infinity`). */
export function parseCount(v: string | number): number | undefined {
  if (typeof v === "number") return (Number.isInteger(v) && v > 0) || v === Infinity ? v : undefined;
  const s = v.trim().toLowerCase();
  if (s === "infinity" || s === "inf") return Infinity;
  return /^\d+$/.test(s) && Number(s) > 0 ? Number(s) : undefined;
}

/** Reads "1/true/yes/on" as true and "0/false/no/off/''" as false. */
export function parseBool(v: string | boolean): boolean | undefined {
  if (typeof v === "boolean") return v;
  const s = v.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(s)) return true;
  if (["0", "false", "no", "off", ""].includes(s)) return false;
  return undefined;
}

/** Splits "a, b ,c" into ["a","b","c"]; accepts a JSON array too. */
export function parseList(v: string | string[]): string[] {
  if (Array.isArray(v)) return v.map(String);
  const s = v.trim();
  if (s.startsWith("[")) {
    try {
      const arr: unknown = JSON.parse(s);
      if (Array.isArray(arr)) return arr.map(String);
    } catch {
      // fall through to the comma form
    }
  }
  return s === "" ? [] : s.split(",").map((x) => x.trim()).filter((x) => x !== "");
}

/** Parses "zone=a,rack=1" into {zone: "a", rack: "1"}; undefined when a pair has no `=`. */
export function parseLabels(v: string | Record<string, string>): Record<string, string> | undefined {
  if (typeof v === "object") return v;
  const out: Record<string, string> = {};
  for (const pair of parseList(v)) {
    const i = pair.indexOf("=");
    if (i <= 0) return undefined;
    out[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  return out;
}

function fail(expected: string): never {
  throw new Error(`must be ${expected}`);
}

let registered = false;

/** Registers the formats with convict once per process. */
export function registerFormats(): void {
  if (registered) return;
  registered = true;
  convict.addFormats({
    "duration-ms": {
      validate: (x: unknown) => {
        if (typeof x !== "number" || !Number.isFinite(x) || x < 0) fail("a duration in ms (e.g. 50, 250ms, 2s, 1m)");
      },
      coerce: (x: string) => parseDurationMs(x) ?? x,
    },
    count: {
      validate: (x: unknown) => {
        if (typeof x !== "number" || !((Number.isInteger(x) && x > 0) || x === Infinity)) fail("a positive integer or 'infinity'");
      },
      coerce: (x: string) => parseCount(x) ?? x,
    },
    "tcp-port": {
      validate: (x: unknown) => {
        if (typeof x !== "number" || !Number.isInteger(x) || x < 0 || x > 65535) fail("a port number 0..65535");
      },
      coerce: (x: string) => (/^\d+$/.test(x.trim()) ? Number(x) : x),
    },
    bool: {
      validate: (x: unknown) => {
        if (typeof x !== "boolean") fail("a boolean (1/0, true/false, yes/no, on/off)");
      },
      coerce: (x: string) => parseBool(x) ?? x,
    },
    "string-list": {
      validate: (x: unknown) => {
        if (!Array.isArray(x) || x.some((e) => typeof e !== "string")) fail("a comma-separated list or a JSON array of strings");
      },
      coerce: (x: string) => parseList(x),
    },
    labels: {
      validate: (x: unknown) => {
        if (typeof x !== "object" || x === null || Array.isArray(x) || Object.values(x).some((e) => typeof e !== "string"))
          fail("labels as key=value pairs separated by commas (zone=a,rack=1)");
      },
      coerce: (x: string) => parseLabels(x) ?? x,
    },
    "log-level": {
      validate: (x: unknown) => {
        if (typeof x !== "string" || !["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(x))
          fail("one of fatal, error, warn, info, debug, trace, silent");
      },
      coerce: (x: string) => x.trim().toLowerCase(),
    },
    "non-empty": {
      validate: (x: unknown) => {
        if (typeof x !== "string" || x.trim() === "") fail("a non-empty string");
      },
    },
    text: {
      validate: (x: unknown) => {
        if (typeof x !== "string") fail("a string");
      },
    },
  });
}
