/** One virtual user: runs the scenario's `start` `repeat_num` times and answers removal. Built to cost little memory. */
import type { Clock } from "../clock.js";
import type { NodeSettings } from "../config/schema.js";
import { AmocError, UserAbortedError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";
import type { CoordinateOptions, GroupMember, ThrottleApi, UserContext, UserThrottle } from "../scenario/api.js";
import type { CoordinatorClient } from "../coordinator/coordinator.js";
import type { UserEndReason } from "../telemetry.js";
import type { SleepEntry, SleepQueue } from "./sleep-queue.js";

/** What an actor needs from its pool; one shared object, so an actor holds a single reference. */
export interface ActorHost {
  readonly start: (id: number, state: unknown, ctx: UserContext) => Promise<void> | void;
  readonly state: unknown;
  readonly vars: Record<string, unknown>;
  readonly settings: Readonly<NodeSettings>;
  readonly metrics: Metrics;
  readonly log: Logger;
  /** The node's throttles (absent: none; `wait` then rejects with THROTTLE_UNKNOWN). */
  readonly throttles?: ThrottleApi;
  /** The node's coordinator client (absent: coordinate rejects). */
  readonly coordinator?: CoordinatorClient;
  /** Time for the pause between repeats. */
  readonly clock: Clock;
  /** The timers of `ctx.sleep`, shared by the pool's users. */
  readonly sleeps: SleepQueue;
  repeatNum(): number;
  repeatIntervalMs(): number;
  ended(actor: UserActor, reason: UserEndReason, error?: unknown): void;
}

const STOP = 1;
const FORCED = 2;
/** Set by the pool once the user is out of the running set (ended, or dropped after the forced grace period). */
export const GONE = 4;

/** What a forced removal must end besides the user's sleeps: its XMPP session (xmpp/forced-removal.ts). */
export interface RemovalTarget {
  onForcedRemoval(): void;
}

/**
 * The user's context is the actor itself: one object per user with three own fields. Everything else (the
 * AbortController, child logger, stop promise, sleep timers) is created only when the scenario asks for it, and the
 * run is a promise chain rather than an `async` function, which would keep a generator object alive per user.
 * Measured: an idle user costs ~0.5 KB of heap (bench/idle-users.ts).
 */
export class UserActor implements UserContext {
  flags = 0;
  /** Lazily created extras; absent for the common idle user. */
  private x: ActorExtras | undefined;

  constructor(
    readonly id: number,
    private readonly host: ActorHost,
  ) {}

  private get extras(): ActorExtras {
    return (this.x ??= new ActorExtras());
  }

  get phase(): string {
    return this.x?.phase ?? "start";
  }
  set phase(p: string) {
    this.extras.phase = p;
  }
  get signal(): AbortSignal {
    const x = this.extras;
    if (!x.ac) {
      x.ac = new AbortController();
      if (this.flags & FORCED) x.ac.abort(new UserAbortedError(this.id));
    }
    return x.ac.signal;
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
    const x = this.extras;
    return (x.log ??= this.host.log.child({ user: this.id }));
  }

  get throttle(): UserThrottle {
    return {
      wait: (name: string) =>
        this.host.throttles
          ? this.host.throttles.wait(name, this.signal)
          : Promise.reject(
              new AmocError(
                "THROTTLE_UNKNOWN",
                `no throttle named '${name}'`,
                "start it in init with ctx.throttle.start",
              ),
            ),
    };
  }

  coordinate(name: string, opts: CoordinateOptions = {}): Promise<GroupMember[]> {
    const c = this.host.coordinator;
    if (!c)
      return Promise.reject(
        new AmocError("STATE_INVALID", "this node has no coordinator", "run the scenario through a controller"),
      );
    // a removal (graceful or forced) ends the wait and takes the user out of its group
    return c.join(name, opts, this.id, this.stopped());
  }

  sleep(ms: number): Promise<void> {
    if (this.flags & FORCED) return Promise.reject(new UserAbortedError(this.id));
    const x = this.extras;
    return new Promise<void>((resolve, reject) => {
      const e = this.host.sleeps.add(ms, resolve, reject);
      const cur = x.sleeps;
      // one sleep at a time is the rule: a list only for a user that sleeps in parallel
      if (cur === undefined || (!Array.isArray(cur) && !cur.reject)) x.sleeps = e;
      else if (Array.isArray(cur)) {
        x.sleeps = cur.filter((s) => s.reject);
        x.sleeps.push(e);
      } else x.sleeps = [cur, e];
    });
  }

  /**
   * The session a forced removal ends at once (xmpp/forced-removal.ts sets it): kept here instead of a reaction to
   * `stopped()` per user, which cost a promise, its resolving functions and two closures.
   */
  get removalTarget(): RemovalTarget | null {
    return this.x?.removal ?? null;
  }
  set removalTarget(t: RemovalTarget | null) {
    // already removed with force: ended as soon as the caller has set it up (a login then starts and is aborted)
    if (t && this.flags & FORCED) queueMicrotask(() => t.onForcedRemoval());
    else if (t || this.x) this.extras.removal = t ?? undefined;
  }

  stopped(): Promise<void> {
    if (this.flags & STOP) return Promise.resolve();
    const x = this.extras;
    return (x.stopPromise ??= new Promise<void>((resolve) => {
      x.wake = resolve;
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
    const x = this.x;
    const sleeps = x?.sleeps;
    if (x && (x.ac || (sleeps && (Array.isArray(sleeps) || sleeps.reject)))) {
      // built only when someone can see it: an Error with a stack costs microseconds, times a million users
      const err = new UserAbortedError(this.id);
      x.ac?.abort(err);
      x.sleeps = undefined;
      if (Array.isArray(sleeps)) for (const s of sleeps) this.host.sleeps.cancel(s, err);
      else if (sleeps) this.host.sleeps.cancel(sleeps, err);
    }
    if (x?.removal) {
      const target = x.removal;
      x.removal = undefined;
      target.onForcedRemoval();
    }
    this.wakeUp();
  }

  private wakeUp(): void {
    const x = this.x;
    if (!x) return;
    const w = x.wake;
    const r = x.wakeRepeat;
    x.wake = x.wakeRepeat = x.stopPromise = undefined;
    w?.();
    r?.();
  }

  /** Runs `start` once; the chain continues in `afterRun`. Never throws. */
  run(): void {
    let p: Promise<void> | void;
    try {
      p = this.host.start(this.id, this.host.state, this);
    } catch (e) {
      return this.failed(e);
    }
    if (p && typeof p.then === "function") {
      p.then(
        () => this.afterRun(),
        (e: unknown) => this.failed(e),
      );
    } else this.afterRun();
  }

  private afterRun(): void {
    const host = this.host;
    if (this.flags & STOP) return host.ended(this, "removed");
    const done = (this.x?.done ?? 0) + 1;
    if (done >= host.repeatNum()) return host.ended(this, "finished");
    const x = this.extras;
    x.done = done;
    const timer = host.clock.setTimeout(() => {
      x.wakeRepeat = undefined;
      this.run();
    }, host.repeatIntervalMs());
    x.wakeRepeat = () => {
      host.clock.clearTimeout(timer);
      host.ended(this, "removed");
    };
  }

  private failed(e: unknown): void {
    if (this.flags & FORCED) this.host.ended(this, "removed");
    else this.host.ended(this, "crashed", e);
  }
}

/**
 * Per-user state that most users never need. A class with every field declared, so each instance has one fixed
 * shape with its fields in the object: fields added to a literal one by one spill into a separate property array.
 */
class ActorExtras {
  /** Completed runs of `start`, kept from the second run on (a user that never repeats has no extras). */
  done = 0;
  phase: string | undefined = undefined;
  ac: AbortController | undefined = undefined;
  log: Logger | undefined = undefined;
  wake: (() => void) | undefined = undefined;
  wakeRepeat: (() => void) | undefined = undefined;
  stopPromise: Promise<void> | undefined = undefined;
  /** The pending `ctx.sleep` (a list only while the user sleeps in parallel). */
  sleeps: SleepEntry | SleepEntry[] | undefined = undefined;
  removal: RemovalTarget | undefined = undefined;
}
