/**
 * Logs a recurring event at most once per interval and kind, with how many were held back in between: a failing
 * StatsD daemon, a full disk or a stranger flooding a cluster subject must not flood the log.
 */
import { systemClock, type Clock } from "../clock.js";
import { errorMessage } from "../errors.js";
import type { Logger } from "../log.js";

/** Kinds remembered at once; a flood of distinct kinds forgets them all (each kind is then logged once more). */
const MAX_KINDS = 1000;

/** A warn-level logger for one message (`msg`) that cannot flood the log. */
export class RateLimitedLog {
  private readonly kinds = new Map<string, { atMs: number; held: number }>();
  private total = 0;

  constructor(
    private readonly log: Logger,
    private readonly msg: string,
    private readonly everyMs = 10_000,
    private readonly clock: Pick<Clock, "now"> = systemClock,
  ) {}

  /** Logs the failure `err` now, or counts it when the last line was written less than `everyMs` ago. */
  warn(err: unknown, fields: Record<string, unknown> = {}): void {
    this.warnKind("", { err: errorMessage(err), ...fields });
  }

  /**
   * Logs `fields` (which may name their own `msg`) now, or counts them when the last line of the same `kind` was
   * written less than `everyMs` ago; each kind has its own interval, the first of a kind is logged at once.
   */
  warnKind(kind: string, fields: Record<string, unknown>): void {
    this.total++;
    const now = this.clock.now();
    const k = this.kinds.get(kind);
    if (k && now - k.atMs < this.everyMs) {
      k.held++;
      return;
    }
    this.log.warn({ msg: this.msg, ...fields, suppressed: k?.held ?? 0, total: this.total });
    if (this.kinds.size >= MAX_KINDS && !k) this.kinds.clear();
    this.kinds.set(kind, { atMs: now, held: 0 });
  }

  /** How many events were reported in all, logged or not. */
  get count(): number {
    return this.total;
  }
}
