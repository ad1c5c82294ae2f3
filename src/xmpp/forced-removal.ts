/**
 * Noticing that a user was removed with force, so its XMPP session closes at once, without an AbortSignal listener
 * per user. amoc's own user context (users/user-actor.ts) takes the session as its `removalTarget` and ends it
 * itself: one field per user. Any other context gets one `ctx.stopped()` reaction per user (a promise, its resolving
 * functions and two closures: ~0.4 KB, docs/memory.md), and the signal is read only once the user is asked to stop.
 * A listener on each user's signal (Node's AbortController and EventTarget) cost ~0.1 ms of CPU per user, 7 % of
 * what a bench_chat user costs in all (bench/README-xmpp.md).
 */

/** What a user's context offers for this (a scenario's `UserContext` has it). */
export interface StoppableContext {
  readonly signal: AbortSignal;
  /** True once the user was asked to stop (gracefully or with force). */
  readonly stopping: boolean;
  /** Resolves when the user is asked to stop. */
  stopped(): Promise<void>;
  /** When the context has it (amoc's users do), the session it ends itself on a forced removal. */
  removalTarget?: ForcedRemovalTarget | null;
}

/** A session that a forced removal must end. */
export interface ForcedRemovalTarget {
  onForcedRemoval(): void;
}

interface Watch {
  /** The user's current session (a repeating user has one per run). */
  current: ForcedRemovalTarget | null;
}

/** One watch per user context; it goes away with the context. */
const watches = new WeakMap<StoppableContext, Watch>();

/** True once the user was removed with force; reads the signal only after a stop request. */
export function removedWithForce(ctx: StoppableContext): boolean {
  return ctx.stopping && ctx.signal.aborted;
}

/** Makes `target` the session that `ctx`'s forced removal ends (replacing a previous one of the same user). */
export function watchForcedRemoval(ctx: StoppableContext, target: ForcedRemovalTarget): void {
  if ("removalTarget" in ctx) {
    ctx.removalTarget = target;
    return;
  }
  let w = watches.get(ctx);
  if (!w) {
    const watch: Watch = { current: null };
    w = watch;
    watches.set(ctx, watch);
    ctx.stopped().then(
      () => onStop(ctx, watch),
      () => {},
    );
  }
  w.current = target;
}

/** `target` no longer needs ending (it closed). */
export function unwatchForcedRemoval(ctx: StoppableContext, target: ForcedRemovalTarget): void {
  if ("removalTarget" in ctx) {
    if (ctx.removalTarget === target) ctx.removalTarget = null;
    return;
  }
  const w = watches.get(ctx);
  if (w?.current === target) w.current = null;
}

function onStop(ctx: StoppableContext, w: Watch): void {
  const signal = ctx.signal;
  if (signal.aborted) fire(w);
  // asked to stop gracefully: the scenario ends by itself, unless a forced removal follows
  else signal.addEventListener("abort", () => fire(w), { once: true });
}

function fire(w: Watch): void {
  const t = w.current;
  w.current = null;
  t?.onForcedRemoval();
}
