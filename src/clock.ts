/**
 * The one source of time for code that paces or schedules (the user pool, throttles, the stage driver, the
 * coordinator): injected, so unit tests drive it with a fake clock and assert exact instants instead of sleeping.
 */

/** An opaque timer handle; only the clock that made it can clear it. */
export type TimerHandle = { readonly __timer: unique symbol };

export interface Clock {
  /**
   * Epoch milliseconds with sub-millisecond resolution, monotonic within the process (it does not jump when the
   * wall clock is set): start plans are absolute instants every node of a cluster computes alike.
   */
  now(): number;
  /** Runs `fn` once after `ms` (as Node: below 1 ms means 1 ms). `unref`: the timer does not keep the process up. */
  setTimeout(fn: () => void, ms: number, opts?: { unref?: boolean }): TimerHandle;
  clearTimeout(h: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number, opts?: { unref?: boolean }): TimerHandle;
  clearInterval(h: TimerHandle | undefined): void;
  /** Runs `fn` on the next turn of the event loop, after pending I/O: how a long pass of work yields. */
  setImmediate(fn: () => void): TimerHandle;
  clearImmediate(h: TimerHandle | undefined): void;
}

type NodeTimer = ReturnType<typeof globalThis.setTimeout>;

/** Node's own timers and `performance`. */
export const systemClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout(fn, ms, opts) {
    const t = globalThis.setTimeout(fn, ms);
    if (opts?.unref) t.unref();
    return t as unknown as TimerHandle;
  },
  clearTimeout: (h) => globalThis.clearTimeout(h as unknown as NodeTimer | undefined),
  setInterval(fn, ms, opts) {
    const t = globalThis.setInterval(fn, ms);
    if (opts?.unref) t.unref();
    return t as unknown as TimerHandle;
  },
  clearInterval: (h) => globalThis.clearInterval(h as unknown as NodeTimer | undefined),
  setImmediate: (fn) => globalThis.setImmediate(fn) as unknown as TimerHandle,
  clearImmediate: (h) => globalThis.clearImmediate(h as unknown as NodeJS.Immediate | undefined),
};
