/** Logs a recurring failure at most once per interval, with how many were suppressed in between. */
import { errorMessage } from "../errors.js";
import type { Logger } from "../log.js";

/** A warn-level logger for one kind of failure (`msg`) that cannot flood the log. */
export class RateLimitedLog {
  private lastAtMs = -Infinity;
  private suppressed = 0;
  private total = 0;

  constructor(
    private readonly log: Logger,
    private readonly msg: string,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs `err` now, or counts it when the last line was written less than `intervalMs` ago. */
  warn(err: unknown, fields: Record<string, unknown> = {}): void {
    this.total++;
    const t = this.now();
    if (t - this.lastAtMs < this.intervalMs) {
      this.suppressed++;
      return;
    }
    this.log.warn({ msg: this.msg, err: errorMessage(err), ...fields, suppressed: this.suppressed, total: this.total });
    this.lastAtMs = t;
    this.suppressed = 0;
  }

  /** How many failures were reported in all, logged or not. */
  get count(): number {
    return this.total;
  }
}
