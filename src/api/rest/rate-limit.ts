/**
 * Wrong tokens per remote address: after `max` failures within `windowMs` the address is refused (429 with
 * Retry-After) until its oldest failure leaves the window, right token or not — otherwise a 200 among the 429s would
 * still tell a guesser it found the token. The clock is injected (tests never wait on the wall clock).
 */

/** Options of a FailureLimiter. */
export interface FailureLimiterOptions {
  max?: number;
  windowMs?: number;
  now?: () => number;
}

/** Counts failures per key over a sliding window. */
export class FailureLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly max: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(o: FailureLimiterOptions = {}) {
    this.max = o.max ?? 10;
    this.windowMs = o.windowMs ?? 60_000;
    this.now = o.now ?? Date.now;
  }

  /** Seconds until `key` may try again (0: it may now). */
  retryAfter(key: string): number {
    const list = this.recent(key);
    if (list.length < this.max) return 0;
    return Math.max(1, Math.ceil(((list[list.length - this.max] as number) + this.windowMs - this.now()) / 1000));
  }

  /** Records one failure of `key`. */
  fail(key: string): void {
    const list = this.recent(key);
    list.push(this.now());
    this.failures.set(key, list);
    // many addresses (a scan): forget the ones whose failures are all old, so the map stays small
    if (this.failures.size > 10_000)
      for (const k of [...this.failures.keys()]) if (this.recent(k).length === 0) this.failures.delete(k);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    const list = (this.failures.get(key) ?? []).filter((t) => t > since);
    if (list.length === 0) this.failures.delete(key);
    else this.failures.set(key, list);
    return list;
  }
}
