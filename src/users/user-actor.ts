/** One virtual user: runs the scenario's `start` `repeat_num` times and answers removal. Built to cost little memory. */
import type { NodeSettings } from "../config/schema.js";
import { UserAbortedError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type { UserContext } from "../scenario/api.js";
import type { UserEndReason } from "../telemetry.js";

/** What an actor needs from its pool; one shared object, so an actor holds a single reference. */
export interface ActorHost {
  readonly start: (id: number, state: unknown, ctx: UserContext) => Promise<void> | void;
  readonly state: unknown;
  readonly vars: Record<string, unknown>;
  readonly settings: Readonly<NodeSettings>;
  readonly metrics: Metrics;
  readonly log: Logger;
  repeatNum(): number;
  repeatIntervalMs(): number;
  ended(actor: UserActor, reason: UserEndReason, error?: unknown): void;
}

const STOP = 1;
const FORCED = 2;
/** Set by the pool once the user is out of the running set (ended, or dropped after the forced grace period). */
export const GONE = 4;

interface Sleeper {
  timer: NodeJS.Timeout;
  reject: (e: Error) => void;
}

/**
 * The user's context is the actor itself: one object per user. The AbortController, child logger and stop
 * promise are created only when the scenario asks for them, so an idle user is a handful of fields.
 */
export class UserActor implements UserContext {
  phase = "start";
  flags = 0;
  private ac: AbortController | undefined;
  private wake: (() => void) | undefined;
  private wakeRepeat: (() => void) | undefined;
  private stopPromise: Promise<void> | undefined;
  private sleepers: Set<Sleeper> | undefined;
  private childLog: Logger | undefined;

  constructor(
    readonly id: number,
    private readonly host: ActorHost,
  ) {}

  get signal(): AbortSignal {
    if (!this.ac) {
      this.ac = new AbortController();
      if (this.flags & FORCED) this.ac.abort(new UserAbortedError(this.id));
    }
    return this.ac.signal;
  }
  get stopping(): boolean {
    return (this.flags & STOP) !== 0;
  }
  get forced(): boolean {
    return (this.flags & FORCED) !== 0;
  }
  get vars(): Record<string, unknown> {
    return this.host.vars;
  }
  get settings(): Readonly<NodeSettings> {
    return this.host.settings;
  }
  get metrics(): Metrics {
    return this.host.metrics;
  }
  get log(): Logger {
    return (this.childLog ??= this.host.log.child({ user: this.id }));
  }

  sleep(ms: number): Promise<void> {
    if (this.flags & FORCED) return Promise.reject(new UserAbortedError(this.id));
    return new Promise<void>((resolve, reject) => {
      const s: Sleeper = {
        timer: setTimeout(() => {
          this.sleepers?.delete(s);
          resolve();
        }, ms),
        reject,
      };
      (this.sleepers ??= new Set()).add(s);
    });
  }

  stopped(): Promise<void> {
    if (this.flags & STOP) return Promise.resolve();
    return (this.stopPromise ??= new Promise<void>((resolve) => {
      this.wake = resolve;
    }));
  }

  /** Graceful: finish the current `start`, do not repeat. */
  requestStop(): void {
    if (this.flags & STOP) return;
    this.flags |= STOP;
    this.wakeUp();
  }

  /** Forced: abort the signal and every pending `ctx.sleep`; the pool drops the user after the grace period. */
  abort(): void {
    if (this.flags & FORCED) return;
    this.flags |= STOP | FORCED;
    const err = new UserAbortedError(this.id);
    this.ac?.abort(err);
    if (this.sleepers) {
      for (const s of this.sleepers) {
        clearTimeout(s.timer);
        s.reject(err);
      }
      this.sleepers = undefined;
    }
    this.wakeUp();
  }

  private wakeUp(): void {
    const w = this.wake;
    const r = this.wakeRepeat;
    this.wake = this.wakeRepeat = undefined;
    w?.();
    r?.();
  }

  /** Runs the user to its end; never rejects. */
  async run(): Promise<void> {
    const host = this.host;
    let reason: UserEndReason = "finished";
    let error: unknown;
    try {
      for (let done = 1; ; done++) {
        await host.start(this.id, host.state, this);
        if (this.flags & STOP) {
          reason = "removed";
          break;
        }
        if (done >= host.repeatNum()) break;
        await this.waitBetweenRuns(host.repeatIntervalMs());
        if (this.flags & STOP) {
          reason = "removed";
          break;
        }
      }
    } catch (e) {
      if (this.flags & FORCED) reason = "removed";
      else {
        reason = "crashed";
        error = e;
      }
    }
    host.ended(this, reason, error);
  }

  /** The pause between two runs of `start`; ends early on removal. */
  private waitBetweenRuns(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wakeRepeat = undefined;
        resolve();
      }, ms);
      this.wakeRepeat = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
