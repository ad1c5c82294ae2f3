/**
 * Properties of cluster ID assignment, over generated runs (fast-check shrinks a failure to its smallest case):
 * a deal gives every ID exactly once, the workers' shares differ by at most one ID, and the re-deal of a lost
 * worker's share gives exactly its unfinished IDs, never a finished (ended or removed) one.
 *
 * What a worker starts is read by walking its plans with RangeCursor, the cursor the user pool walks.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  IdBitmap,
  dealProgressions,
  toProgressions,
  expand,
  unfinishedIds as unfinished,
} from "../../src/cluster/id-sets.js";
import { RangeCursor, type RangePlan } from "../../src/users/schedule.js";

/** Every (id, atMs) a worker's plans start, in start order per plan. */
function walk(plans: RangePlan[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const p of plans) for (const c = new RangeCursor(p); c.id !== undefined; c.advance()) out.push([c.id, c.atMs]);
  return out;
}
const idsOf = (plans: RangePlan[]) => walk(plans).map(([id]) => id);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** A run: users from..to over k workers, one every `ia` ms cluster-wide from t0. */
const run = fc.record({
  from: fc.integer({ min: 1, max: 10_000 }),
  n: fc.integer({ min: 0, max: 400 }),
  k: fc.integer({ min: 1, max: 9 }),
  t0: fc.integer({ min: 0, max: 2 ** 40 }),
  ia: fc.integer({ min: 0, max: 100 }),
});

/** A run, a worker of it that is lost, and which IDs of the run had ended (or were removed) by then. */
const lossCase = run
  .filter((r) => r.k >= 2)
  .chain((r) =>
    fc.record({
      r: fc.constant(r),
      lostWorker: fc.integer({ min: 0, max: r.k - 1 }),
      ended: fc.array(fc.boolean(), { minLength: r.n, maxLength: r.n }),
    }),
  );

describe("ID assignment (property)", () => {
  it("a deal over k workers gives every ID of the range exactly once", () => {
    fc.assert(
      fc.property(run, ({ from, n, k, t0, ia }) => {
        const plans = dealProgressions([{ first: from, last: from + n - 1, step: 1 }], k, t0, ia);
        expect(plans).toHaveLength(k);
        expect(sorted(plans.flatMap(idsOf))).toEqual(range(from, from + n - 1));
      }),
    );
  });

  it("the workers' shares differ by at most one ID (one step of the round robin)", () => {
    fc.assert(
      fc.property(run, ({ from, n, k, t0, ia }) => {
        const sizes = dealProgressions([{ first: from, last: from + n - 1, step: 1 }], k, t0, ia).map(
          (p) => idsOf(p).length,
        );
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        // and the earlier workers get the extra ones: worker w holds the IDs whose index is w mod k
        sizes.forEach((s, w) => expect(s).toBe(Math.floor(n / k) + (w < n % k ? 1 : 0)));
      }),
    );
  });

  it("the i-th ID of the range starts at t0 + i * interarrival, on whichever worker holds it", () => {
    fc.assert(
      fc.property(run, ({ from, n, k, t0, ia }) => {
        const starts = dealProgressions([{ first: from, last: from + n - 1, step: 1 }], k, t0, ia).flatMap(walk);
        for (const [id, at] of starts) expect(at).toBeCloseTo(t0 + (id - from) * ia, 6);
      }),
    );
  });

  it("a re-deal of a lost worker's share gives exactly its unfinished IDs, never a finished one, each once", () => {
    fc.assert(
      fc.property(lossCase, ({ r, lostWorker, ended }) => {
        const { from, n, k, t0, ia } = r;
        const plans = dealProgressions([{ first: from, last: from + n - 1, step: 1 }], k, t0, ia);
        const share = idsOf(plans[lostWorker]!);
        const gone = new IdBitmap();
        ended.forEach((e, i) => e && gone.add(from + i));
        const lost = unfinished(plans[lostWorker]!, gone);
        const survivors = k - 1;
        const redealt = dealProgressions(lost, survivors, t0, ia);
        const given = redealt.flatMap(idsOf);
        // exactly the lost worker's IDs that had not ended, each once
        expect(sorted(given)).toEqual(sorted(share.filter((id) => !gone.has(id))));
        expect(given.some((id) => gone.has(id))).toBe(false);
        // spread like a fresh deal: the survivors' new shares differ by at most one ID
        const sizes = redealt.map((p) => idsOf(p).length);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        // after the re-deal every unfinished ID of the run lives on exactly one live worker
        const live = [...plans.filter((_, w) => w !== lostWorker).flatMap(idsOf), ...given];
        expect(sorted(live.filter((id) => !gone.has(id)))).toEqual(
          range(from, from + n - 1).filter((id) => !gone.has(id)),
        );
      }),
    );
  });

  it("IDs in any order become progressions that expand back to exactly those IDs", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 5_000 }), { maxLength: 300 }), (ids) => {
        expect([...expand(toProgressions(ids))]).toEqual(sorted(ids));
      }),
    );
  });
});
