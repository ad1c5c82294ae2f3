/** Counter totals to per-second rates between two samplings (a total since the server started says nothing of a run). */

/** Keeps the previous totals of one source; see the file comment. */
export class Rates {
  private prev: { t: number; totals: Record<string, number> } | undefined;

  /**
   * The rate of each total since the previous call at `t` (epoch ms); none on the first call, and none for a total
   * that went down (the server restarted: its counters began again).
   */
  next(t: number, totals: Record<string, number>): Record<string, number> {
    const out: Record<string, number> = {};
    const p = this.prev;
    this.prev = { t, totals };
    if (!p || t <= p.t) return out;
    const s = (t - p.t) / 1000;
    for (const [k, v] of Object.entries(totals)) {
      const before = p.totals[k];
      if (before !== undefined && v >= before) out[k] = (v - before) / s;
    }
    return out;
  }
}
