/**
 * The formats of node settings: for each, how a string (env, `--set`, a file) is read and what a valid value is.
 * Each format also carries its TypeScript type, so `NodeSettings` is derived from the schema (one source).
 */
import { existsSync, statSync } from "node:fs";
import convict from "convict";
import { isHost, natsServerProblem, xmppServerProblem } from "./addresses.js";
import { NAME_RE, NODE_NAME_RE } from "./names.js";
import { parseBool, parseCount, parseDurationMs, parseLabels, parseList } from "./parse.js";
import { sutProcessProblem, sutSelectProblem, sutUrlProblem } from "./sut-settings.js";
import { coerceJson, parseMix, parseStages, parseThrottles, problemOf, type MixWeights } from "./shapes.js";

/** The SASL mechanisms the XMPP client implements; `auto` picks the strongest the server offers. */
export const SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-1", "SCRAM-SHA-256", "auto"] as const;

/** pino's levels, plus `silent`. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
/** Where `amoc run` and `amoc scenarios` send their JSON log lines: a file (the terminal keeps people's text), or stderr. */
export const LOG_FORMATS = ["file", "json"] as const;

/** A format: `check` returns why a value is wrong (undefined when fine); `T` is the type of a valid value. */
export interface Format<T> {
  /** Turns a string (env, `--set`, CLI) into the value; may return the string unchanged for `check` to refuse. */
  coerce?: (raw: string) => unknown;
  check: (value: unknown) => string | undefined;
  /** Phantom: the type of a valid value. */
  readonly type?: T;
}

function format<T>(f: Format<T>): Format<T> {
  return f;
}

const isStr = (x: unknown): x is string => typeof x === "string";
const trimmed = (raw: string) => raw.trim();

function listOf(problem: (entry: string) => string | undefined, what: string): Format<string[]> {
  return {
    coerce: (raw) => parseList(raw),
    check: (x) => {
      if (!Array.isArray(x) || x.some((e) => typeof e !== "string")) return `must be a comma-separated list of ${what}`;
      if (x.length === 0) return `must name at least one of ${what}`;
      const bad = (x as string[]).map(problem).filter((p): p is string => p !== undefined);
      return bad.length ? bad.join("; ") : undefined;
    },
  };
}

function integerIn(min: number, max: number, expected: string): Format<number> {
  return {
    coerce: (raw) => (/^\s*\d+\s*$/.test(raw) ? Number(raw) : raw),
    check: (x) =>
      typeof x === "number" && Number.isInteger(x) && x >= min && x <= max ? undefined : `must be ${expected}`,
  };
}

/** Node turns a timer above 2^31-1 ms (about 24.8 days) into 1 ms: a longer duration would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

function durationMs(min: number, expected: string): Format<number> {
  return {
    coerce: (raw) => parseDurationMs(raw) ?? raw,
    check: (x) => {
      if (!(typeof x === "number" && Number.isFinite(x) && x >= min)) return `must be ${expected}`;
      return x > MAX_TIMER_MS
        ? `must be at most ${MAX_TIMER_MS} ms (about 24 days): timers cannot wait longer`
        : undefined;
    },
  };
}

function oneOf<const V extends readonly string[]>(values: V, normalize: (raw: string) => string): Format<V[number]> {
  return {
    coerce: normalize,
    check: (x) => (isStr(x) && values.includes(x) ? undefined : `must be one of ${values.join(", ")}`),
  };
}

function file(kind: "file" | "directory", optional: boolean): Format<string> {
  return {
    coerce: trimmed,
    check: (x) => {
      if (!isStr(x)) return "must be a path";
      if (x === "") return optional ? undefined : `must be the path of a ${kind}`;
      if (!existsSync(x)) return `${kind} '${x}' does not exist`;
      const st = statSync(x);
      if (kind === "file" && !st.isFile()) return `'${x}' is not a file`;
      if (kind === "directory" && !st.isDirectory()) return `'${x}' is not a directory`;
      return undefined;
    },
  };
}

/** The shortest REST API token accepted: a short one is guessed. */
export const API_TOKEN_MIN = 16;

/** Every format a setting may have. */
export const FORMATS = {
  /** Load-shape stages as JSON ([] = off); checked here, compiled in shapes/stages.ts. */
  stages: format<unknown[]>({ coerce: coerceJson, check: problemOf(parseStages) }),
  mix: format<MixWeights>({ coerce: (raw) => (raw.trim() === "" ? {} : coerceJson(raw)), check: problemOf(parseMix) }),
  throttles: format<Record<string, { rate?: number; interval?: number; interarrival?: number }>>({
    coerce: (raw) => (raw.trim() === "" ? {} : coerceJson(raw)),
    check: problemOf(parseThrottles),
  }),
  "arrival-process": oneOf(["constant", "poisson"] as const, (raw) => raw.trim().toLowerCase()),
  "duration-ms": durationMs(0, "a duration in ms (e.g. 50, 250ms, 2s, 1m)"),
  "timeout-ms": durationMs(1, "a duration above 0 ms (e.g. 500, 5s)"),
  count: format<number>({
    coerce: (raw) => parseCount(raw) ?? raw,
    check: (x) =>
      typeof x === "number" && ((Number.isInteger(x) && x > 0) || x === Infinity)
        ? undefined
        : "must be a positive integer or 'infinity'",
  }),
  "non-negative-int": integerIn(0, Number.MAX_SAFE_INTEGER, "a whole number, 0 or more"),
  "tcp-port": integerIn(1, 65535, "a port number 1..65535"),
  "listen-port": integerIn(0, 65535, "a port number 0..65535 (0 = any free port)"),
  bool: format<boolean>({
    coerce: (raw) => parseBool(raw) ?? raw,
    check: (x) => (typeof x === "boolean" ? undefined : "must be a boolean (1/0, true/false, yes/no, on/off)"),
  }),
  labels: format<Record<string, string>>({
    coerce: (raw) => parseLabels(raw) ?? raw,
    check: (x) => {
      const expected = "must be labels as key=value pairs separated by commas (zone=a,rack=1)";
      if (typeof x !== "object" || x === null || Array.isArray(x)) return expected;
      for (const [k, v] of Object.entries(x))
        if (!NAME_RE.test(k) || typeof v !== "string") return `${expected}; '${k}' is not a valid label`;
      return undefined;
    },
  }),
  "log-level": oneOf(LOG_LEVELS, (raw) => raw.trim().toLowerCase()),
  "log-format": oneOf(LOG_FORMATS, (raw) => raw.trim().toLowerCase()),
  "sasl-mechanism": oneOf(SASL_MECHANISMS, (raw) =>
    raw.trim().toLowerCase() === "auto" ? "auto" : raw.trim().toUpperCase(),
  ),
  name: format<string>({
    coerce: trimmed,
    check: (x) => (isStr(x) && NAME_RE.test(x) ? undefined : "must be a name of letters, digits, '_' and '-'"),
  }),
  "node-name": format<string>({
    coerce: trimmed,
    check: (x) =>
      isStr(x) && NODE_NAME_RE.test(x) ? undefined : "must be a node name of 1 to 64 letters, digits, '_' and '-'",
  }),
  "metric-prefix": format<string>({
    coerce: trimmed,
    check: (x) =>
      isStr(x) && /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/.test(x)
        ? undefined
        : "must be dot-separated names of letters, digits, '_' and '-' (e.g. amoc or load.amoc)",
  }),
  host: format<string>({
    coerce: trimmed,
    check: (x) => (isStr(x) && isHost(x) ? undefined : "must be a host name or an IP address (e.g. 127.0.0.1)"),
  }),
  "host-or-empty": format<string>({
    coerce: trimmed,
    check: (x) => (isStr(x) && (x === "" || isHost(x)) ? undefined : "must be a host name, an IP address or '' (off)"),
  }),
  "xmpp-domain": format<string>({
    coerce: trimmed,
    check: (x) =>
      isStr(x) && !/[\s@/:"'<>&]/.test(x)
        ? undefined
        : "must be an XMPP domain (e.g. localhost) or '' (the server's host name)",
  }),
  "user-template": format<string>({
    check: (x) =>
      isStr(x) && x !== "" && !/[\s@/:"'<>&]/.test(x.replaceAll("<id>", ""))
        ? undefined
        : "must be a non-empty user name template without spaces, @, /, : (e.g. user_<id>)",
  }),
  "non-empty": format<string>({
    check: (x) => (isStr(x) && x.trim() !== "" ? undefined : "must be a non-empty string"),
  }),
  token: format<string>({
    check: (x) =>
      isStr(x) && !/[\s\x00-\x1f\x7f]/.test(x)
        ? undefined
        : "must hold no spaces, line breaks or control characters (a trailing newline from a file?)",
  }),
  /** The REST API token: '' (a node generates one, or auth is off) or at least 16 characters. */
  "api-token": format<string>({
    check: (x) => {
      if (!isStr(x) || /[\s\x00-\x1f\x7f]/.test(x))
        return "must hold no spaces, line breaks or control characters (a trailing newline from a file?)";
      return x !== "" && x.length < API_TOKEN_MIN
        ? `must be at least ${API_TOKEN_MIN} characters (e.g. $(openssl rand -hex 24)), or '' to let the node generate one`
        : undefined;
    },
  }),
  "api-auth": oneOf(["token", "off"] as const, (raw) => raw.trim().toLowerCase()),
  /** Host names or addresses, comma-separated ('' = none). */
  "host-list": format<string[]>({
    coerce: (raw) => parseList(raw),
    check: (x) => {
      if (!Array.isArray(x) || x.some((e) => !isStr(e)))
        return "must be a comma-separated list of host names or addresses";
      const bad = (x as string[]).filter((h) => !isHost(h.replace(/^\[|\]$/g, "")));
      return bad.length
        ? `'${bad.join("', '")}' ${bad.length === 1 ? "is not a host name or address" : "are not host names or addresses"}`
        : undefined;
    },
  }),
  password: format<string>({
    check: (x) =>
      isStr(x) && !/[\x00-\x1f\x7f]/.test(x)
        ? undefined
        : "must hold no line breaks or control characters (a trailing newline from a file?)",
  }),
  text: format<string>({
    check: (x) => (isStr(x) ? undefined : "must be a string"),
  }),
  "http-url-or-empty": format<string>({
    coerce: trimmed,
    check: (x) => {
      if (!isStr(x)) return "must be an http(s) URL or '' (off)";
      if (x === "") return undefined;
      try {
        const u = new URL(x);
        if ((u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "") return undefined;
      } catch {
        // reported below
      }
      return `must be an http(s) URL such as http://127.0.0.1:8080/events/ or '' (off), got '${x}'`;
    },
  }),
  "xmpp-url-list": listOf(xmppServerProblem, "xmpp://, xmpps://, ws://, wss:// or BOSH http(s):// URLs"),
  "nats-url-list": listOf(natsServerProblem, "NATS URLs (nats://host:4222)"),
  "file-or-empty": file("file", true),
  directory: file("directory", false),
  "directory-or-empty": format<string>({
    coerce: trimmed,
    check: (x) =>
      isStr(x) && (x === "" || !existsSync(x) || statSync(x).isDirectory())
        ? undefined
        : `'${String(x)}' exists and is not a directory`,
  }),
  "file-path-or-empty": format<string>({
    coerce: trimmed,
    check: (x) =>
      isStr(x) && (x === "" || !existsSync(x) || !statSync(x).isDirectory())
        ? undefined
        : `'${String(x)}' is a directory, not a file`,
  }),
  // the server under test (src/sut/): lists that may be empty (off), checked in config/sut-settings.ts
  "sut-url-list": format<string[]>({
    coerce: (raw) => parseList(raw),
    check: (x) => {
      if (!Array.isArray(x) || x.some((e) => !isStr(e))) return "must be a comma-separated list of URLs";
      const bad = (x as string[]).map(sutUrlProblem).filter((p): p is string => p !== undefined);
      return bad.length ? bad.join("; ") : undefined;
    },
  }),
  "sut-select": format<string[]>({
    coerce: (raw) => parseList(raw),
    check: (x) =>
      Array.isArray(x) && x.every(isStr) ? sutSelectProblem(x as string[]) : "must be a comma-separated list of globs",
  }),
  "sut-process": format<string>({
    coerce: trimmed,
    check: (x) => (isStr(x) ? sutProcessProblem(x) : "must be a pid or a process name"),
  }),
} satisfies Record<string, Format<unknown>>;

/** The name of a format. */
export type FormatName = keyof typeof FORMATS;

/** The type of a valid value of format `F`. */
export type FormatType<F extends FormatName> = (typeof FORMATS)[F] extends Format<infer T> ? T : never;

let registered = false;

/** Registers the formats with convict once per process. */
export function registerFormats(): void {
  if (registered) return;
  registered = true;
  for (const [name, f] of Object.entries(FORMATS) as Array<[string, Format<unknown>]>) {
    convict.addFormat({
      name,
      validate: (x: unknown) => {
        const problem = f.check(x);
        if (problem !== undefined) throw new Error(problem);
      },
      coerce: f.coerce ? (x: string) => f.coerce?.(x) : undefined,
    });
  }
}
