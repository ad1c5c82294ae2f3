import { describe, expect, it } from "vitest";
import { EndedSet, addToIntervals, dealProgressions, planIds, progressionSize, subtractIntervals, type Progression } from "../../src/cluster/id-sets.js";
import { RangeCursor } from "../../src/users/schedule.js";
import type { RangePlan } from "../../src/users/schedule.js";

/** Every (id, at) a plan starts, by walking its cursor. */
function walk(p: RangePlan): Array<[number, number]> {
  const c = new RangeCursor(p);
  const out: Array<[number, number]> = [];
  for (let id = c.id; id !== undefined; c.advance(), id = c.id) out.push([id, c.atMs]);
  return out;
}
const ids = (p: Progression) => Array.from({ length: progressionSize(p) }, (_, i) => p.first + i * p.step);

describe("cluster ID sets", () => {
  it("dealing 1..10 over 3 workers gives each the IDs congruent to its index, one every interarrival cluster-wide", () => {
    const plans = dealProgressions([{ first: 1, last: 10, step: 1 }], 3, 1000, 10);
    const starts = plans.map((ps) => ps.flatMap(walk));
    expect(starts[0]).toEqual([[1, 1000], [4, 1030], [7, 1060], [10, 1090]]);
    expect(starts[1]).toEqual([[2, 1010], [5, 1040], [8, 1070]]);
    expect(starts[2]).toEqual([[3, 1020], [6, 1050], [9, 1080]]);
  });

  it("re-dealing a lost worker's progression keeps ID order and pacing over the survivors", () => {
    // worker 2 of 3 held 3, 6, 9, 12; two survivors take them
    const plans = dealProgressions([{ first: 3, last: 12, step: 3 }], 2, 0, 5);
    expect(plans[0]!.flatMap(walk)).toEqual([[3, 0], [9, 10]]);
    expect(plans[1]!.flatMap(walk)).toEqual([[6, 5], [12, 15]]);
  });

  it("subtracting removed intervals from a progression leaves the rest", () => {
    const p = { first: 2, last: 20, step: 3 }; // 2 5 8 11 14 17 20
    expect(subtractIntervals(p, [[4, 9], [17, 30]]).flatMap(ids)).toEqual([2, 11, 14]);
    expect(subtractIntervals(p, []).flatMap(ids)).toEqual([2, 5, 8, 11, 14, 17, 20]);
    expect(subtractIntervals(p, [[0, 100]])).toEqual([]);
  });

  it("a plan's progression and intervals round-trip", () => {
    expect(planIds({ from: 1, to: 3000, step: 3, offset: 2, t0Ms: 0, baseId: 1, interarrivalMs: 0 })).toEqual({ first: 3, last: 3000, step: 3 });
    expect(addToIntervals([[1, 3]], [5, 4, 9])).toEqual([[1, 5], [9, 9]]);
  });

  it("the ended set stays a few progressions when users end in order, and overflows past its limit", () => {
    const e = new EndedSet(3);
    for (let id = 2; id <= 3000; id += 3) e.add(id);
    expect(e.toJSON().progressions).toEqual([{ first: 2, last: 2999, step: 3 }]);
    e.add(1);
    e.add(0);
    e.add(-5);
    expect(e.overflow).toBe(true);
    expect(e.toIntervals()).toBeUndefined();
  });
});
