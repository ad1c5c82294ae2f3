/**
 * How a setting given as text (env, `--set`, a flag, a file) is read: durations, counts, booleans, lists, labels.
 * Each returns undefined when the text does not parse, so the caller says what was expected.
 */

/** Milliseconds per duration unit. */
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
type DurationUnit = keyof typeof UNIT_MS;

/**
 * Parses "50", "50ms", "2s", "1.5m", "1h" (or a number) into milliseconds, text rounded to whole ms; undefined when unparsable or negative. The
 * one duration rule of settings, load-shape stages and flags; a bare number is in `bareUnit` (ms unless the flag
 * counts seconds, like `--duration 30`).
 */
export function parseDurationMs(v: string | number, bareUnit: "ms" | "s" = "ms"): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) && v >= 0 ? v * UNIT_MS[bareUnit] : undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(v);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[(m[2] as DurationUnit | undefined) ?? bareUnit]);
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
  return s === ""
    ? []
    : s
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x !== "");
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
