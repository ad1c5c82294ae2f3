/** The root pino logger: one JSON line per event, to stderr or a file. */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { pino, type Logger } from "pino";

export type { Logger } from "pino";

/** Where and how much to log. */
export interface LogOptions {
  level: string;
  /** Empty: stderr. */
  file: string;
  nodeName: string;
}

/** Builds the root logger. Writes are asynchronous; call `flushLog` before exiting. */
export function createLogger(opts: LogOptions): Logger {
  const fd = 2;
  if (opts.file) mkdirSync(dirname(opts.file), { recursive: true });
  const dest = pino.destination(opts.file ? { dest: opts.file, sync: false } : { fd, sync: true });
  return pino({ level: opts.level, base: { node: opts.nodeName }, timestamp: pino.stdTimeFunctions.isoTime }, dest);
}

/** A logger that drops everything (tests, benchmarks). */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

/** Flushes buffered log lines; safe on any logger. */
export function flushLog(log: Logger): void {
  try {
    log.flush();
  } catch {
    // a sync destination or a closed stream has nothing to flush
  }
}
