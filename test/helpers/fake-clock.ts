/**
 * A Clock whose time moves only when a test says so. Timers run in due order (ties in the order they were set),
 * each at its own instant, and promises settle after each one, so code that awaits between timers behaves as on the
 * real clock, only exactly. It patches no globals: vitest, I/O and other code keep the real event loop.
 */
import type { Clock, TimerHandle } from "../../src/clock.js";

interface Timer {
  id: number;
  at: number;
  fn: () => void;
  /** Repeat period of an interval. */
  every?: number;
}

/** Lets every promise chain that waits on nothing but other promises run to its end. */
export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Node's rule: a delay below 1 ms (or not a number, or too long for a timer) is 1 ms. */
const delay = (ms: number) => (ms >= 1 && ms <= 2 ** 31 - 1 ? ms : 1);

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private readonly timers = new Map<number, Timer>();

  constructor(startMs = 0) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.add({ id: ++this.seq, at: this.t + delay(ms), fn });
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.add({ id: ++this.seq, at: this.t + delay(ms), fn, every: delay(ms) });
  }
  setImmediate(fn: () => void): TimerHandle {
    return this.add({ id: ++this.seq, at: this.t, fn });
  }
  clearTimeout(h: TimerHandle | undefined): void {
    if (h !== undefined) this.timers.delete(h as unknown as number);
  }
  clearInterval(h: TimerHandle | undefined): void {
    this.clearTimeout(h);
  }
  clearImmediate(h: TimerHandle | undefined): void {
    this.clearTimeout(h);
  }

  /** How many timers, intervals and immediates are set. */
  get pending(): number {
    return this.timers.size;
  }

  /** When the next timer is due, or undefined when none is set. */
  nextAt(): number | undefined {
    return this.next()?.at;
  }

  /** Time passes inside synchronous work (a busy CPU): no timer runs until the code under test yields. */
  spend(ms: number): void {
    this.t += ms;
  }

  /** Runs the next timer only (time moves to its instant); false when none is set. */
  async step(): Promise<boolean> {
    await settle();
    const t = this.next();
    if (!t) return false;
    await this.fire(t);
    return true;
  }

  /** Moves time forward by `ms`, running every timer due by then at its own instant; promises settle after each. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (let t = this.next(); t && t.at <= end; t = this.next()) await this.fire(t);
    this.t = end;
    await settle();
  }

  /** Runs timers until none is left (time moves to each); throws when more than `limit` ran: an interval never ends. */
  async runUntilIdle(limit = 100_000): Promise<void> {
    await settle();
    for (let n = 0, t = this.next(); t; t = this.next()) {
      if (++n > limit) throw new Error(`FakeClock: still busy after ${limit} timers (an interval left running?)`);
      await this.fire(t);
    }
  }

  private add(t: Timer): TimerHandle {
    this.timers.set(t.id, t);
    return t.id as unknown as TimerHandle;
  }

  private next(): Timer | undefined {
    let best: Timer | undefined;
    // Map order is insertion order, and an interval is re-inserted when it fires: ties go to the earliest set
    for (const t of this.timers.values()) if (!best || t.at < best.at) best = t;
    return best;
  }

  private async fire(t: Timer): Promise<void> {
    this.t = Math.max(this.t, t.at);
    this.timers.delete(t.id);
    if (t.every !== undefined) this.timers.set(t.id, { ...t, at: t.at + t.every });
    t.fn();
    await settle();
  }
}
