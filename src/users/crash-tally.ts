/** The crashes of one pool by reason (users/crash-reason.ts): counts, one example message, first and last seen. */
import { errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import { crashPhase, crashReason } from "./crash-reason.js";
import { crashWhere } from "./crash-where.js";

/** Distinct crash reasons kept for the summary; the rest are counted under one "other" reason. */
const MAX_ERROR_KINDS = 50;

/** One kind of crash, with how often it happened. */
export interface ErrorSummary {
  /** The stable reason (users/crash-reason.ts): phase and failure code, never a user name, ID, address or port. */
  reason: string;
  phase: string;
  count: number;
  /** One message of this reason, as it was thrown (the first seen). */
  message: string;
  /** Where in the scenario the first of this reason was thrown (`file:line:column`, source-mapped), when known. */
  where?: string;
  /** Epoch ms of the first and the last crash of this reason. */
  first_seen: number;
  last_seen: number;
}

/** One crash as recorded: its phase, its reason and its message. */
export interface CrashRecord {
  phase: string;
  reason: string;
  message: string;
}

/** Counts crashes by reason; the first of each reason is logged at warn, the rest at debug. */
export class CrashTally {
  private readonly errors = new Map<string, ErrorSummary>();
  /** Crashes logged at debug only (the first of each kind is at warn): said once at the end of the run. */
  linesLeftOut = 0;

  constructor(private readonly log: Logger) {}

  /** Records the crash of user `id` in `userPhase` at `nowMs` (epoch ms). */
  record(id: number, userPhase: string, error: unknown, nowMs: number): CrashRecord {
    const phase = crashPhase(error, userPhase);
    const reason = crashReason(error, phase);
    const message = errorMessage(error);
    const now = Math.round(nowMs);
    let e = this.errors.get(reason);
    if (!e) {
      if (this.errors.size >= MAX_ERROR_KINDS) {
        e = this.errors.get("other") ?? {
          reason: "other",
          phase: "*",
          message: `more than ${MAX_ERROR_KINDS} reasons; e.g. ${message}`,
          count: 0,
          first_seen: now,
          last_seen: now,
        };
        this.errors.set("other", e);
      } else {
        const where = crashWhere(error);
        e = { reason, phase, message, ...(where ? { where } : {}), count: 0, first_seen: now, last_seen: now };
        this.errors.set(reason, e);
        // the first of each reason at warn, the rest at debug: nothing per user above debug
        this.log.warn({ msg: "user_crashed", user: id, phase, reason, err: message, ...(where ? { where } : {}) });
      }
    } else {
      this.linesLeftOut++;
      this.log.debug({ msg: "user_crashed", user: id, phase, reason, err: message });
    }
    e.count++;
    e.last_seen = now;
    return { phase, reason, message };
  }

  /** The reasons, the most frequent first. */
  summary(): ErrorSummary[] {
    return [...this.errors.values()].sort((a, b) => b.count - a.count);
  }
}
