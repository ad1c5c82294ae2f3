/**
 * Short-lived, single-use tickets for the one thing a bearer header cannot reach: a frame's or a new tab's URL (the
 * run report). The page asks for a ticket with its token (POST, bearer) and puts the ticket, never the token, in the
 * URL; a ticket opens only the path it was issued for, once, within `ttlMs`.
 */
import { randomBytes } from "node:crypto";

/** Issues and redeems tickets. */
export class Tickets {
  private readonly open = new Map<string, { path: string; until: number }>();
  constructor(
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** A ticket for one GET of `path`. */
  issue(path: string): string {
    this.prune();
    const t = randomBytes(18).toString("hex");
    this.open.set(t, { path, until: this.now() + this.ttlMs });
    return t;
  }

  /** Whether `ticket` opens `path` (it is used up either way). */
  redeem(path: string, ticket: string): boolean {
    const t = this.open.get(ticket);
    this.open.delete(ticket);
    return t !== undefined && t.path === path && t.until >= this.now();
  }

  private prune(): void {
    const now = this.now();
    for (const [k, v] of this.open) if (v.until < now) this.open.delete(k);
  }
}
