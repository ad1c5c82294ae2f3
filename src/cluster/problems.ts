/** Problems a cluster node met outside any one command: each kind is logged once, with what it affects, then counted. */
import type { Logger } from "../log.js";

/** One kind of problem, as status reports it. */
export interface Problem {
  kind: string;
  message: string;
  affects: string;
  count: number;
}

/** Logs each kind of problem once (later ones only count), and lists them for status. */
export class Problems {
  private readonly byKind = new Map<string, Problem>();

  constructor(private readonly log: Logger) {}

  /** Records a problem; the first of its kind is logged at error level. */
  note(kind: string, message: string, affects: string): void {
    const p = this.byKind.get(kind);
    if (p) {
      p.count++;
      p.message = message;
      return;
    }
    this.byKind.set(kind, { kind, message, affects, count: 1 });
    this.log.error({ msg: kind, err: message, affects });
  }

  /** Forgets a kind (it was dealt with, e.g. a re-deal that succeeded on retry). */
  clear(kind: string): void {
    this.byKind.delete(kind);
  }

  has(kind: string): boolean {
    return this.byKind.has(kind);
  }

  list(): Problem[] {
    return [...this.byKind.values()].map((p) => ({ ...p }));
  }
}
