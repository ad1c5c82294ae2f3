import { describe, expect, it } from "vitest";
import {
  EndedSet,
  IdBitmap,
  addToIntervals,
  highest,
  toProgressions,
  dealProgressions,
  planIds,
  progressionSize,
  subtractIntervals,
  type Progression,
} from "../../src/cluster/id-sets.js";
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
    expect(starts[0]).toEqual([
      [1, 1000],
      [4, 1030],
      [7, 1060],
      [10, 1090],
    ]);
    expect(starts[1]).toEqual([
      [2, 1010],
      [5, 1040],
      [8, 1070],
    ]);
    expect(starts[2]).toEqual([
      [3, 1020],
      [6, 1050],
      [9, 1080],
    ]);
  });

  it("re-dealing a lost worker's progression keeps ID order and pacing over the survivors", () => {
    // worker 2 of 3 held 3, 6, 9, 12; two survivors take them
    const plans = dealProgressions([{ first: 3, last: 12, step: 3 }], 2, 0, 5);
    expect(plans[0]!.flatMap(walk)).toEqual([
      [3, 0],
      [9, 10],
    ]);
    expect(plans[1]!.flatMap(walk)).toEqual([
      [6, 5],
      [12, 15],
    ]);
  });

  it("subtracting removed intervals from a progression leaves the rest", () => {
    const p = { first: 2, last: 20, step: 3 }; // 2 5 8 11 14 17 20
    expect(
      subtractIntervals(p, [
        [4, 9],
        [17, 30],
      ]).flatMap(ids),
    ).toEqual([2, 11, 14]);
    expect(subtractIntervals(p, []).flatMap(ids)).toEqual([2, 5, 8, 11, 14, 17, 20]);
    expect(subtractIntervals(p, [[0, 100]])).toEqual([]);
  });

  it("a plan's progression and intervals round-trip", () => {
    expect(planIds({ from: 1, to: 3000, step: 3, offset: 2, t0Ms: 0, baseId: 1, interarrivalMs: 0 })).toEqual({
      first: 3,
      last: 3000,
      step: 3,
    });
    expect(addToIntervals([[1, 3]], [5, 4, 9])).toEqual([
      [1, 5],
      [9, 9],
    ]);
  });

  it("the ended set never overflows: 1,000,000 IDs ending in random order round-trip through their encoding", () => {
    const e = new EndedSet();
    const order = Array.from({ length: 1_000_000 }, (_, i) => 3 * i + 2);
    let seed = 7;
    for (let i = order.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const j = seed % (i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    // only every other one ended: 500,000 isolated IDs, far past the old 10,000-progression limit
    for (const id of order.slice(0, 500_000)) e.add(id);
    const rec = JSON.parse(JSON.stringify(e.toJSON())) as ReturnType<EndedSet["toJSON"]>;
    const back = IdBitmap.decode(rec);
    expect(back.size).toBe(500_000);
    for (const id of order.slice(0, 1000)) expect(back.has(id)).toBe(true);
    for (const id of order.slice(500_000, 501_000)) expect(back.has(id)).toBe(false);
    // well under NATS's 1 MB payload even with no order at all
    expect(JSON.stringify(rec).length).toBeLessThan(600_000);
  });

  it("IDs ending in start order encode to a few bytes, and lower IDs arriving late extend the bitmap downwards", () => {
    const e = new EndedSet();
    for (let id = 1000; id <= 300_000; id += 3) e.add(id);
    e.add(7);
    const rec = e.toJSON();
    expect(rec.bits.length).toBeLessThan(2000);
    const back = IdBitmap.decode(rec);
    expect([back.has(7), back.has(1000), back.has(1003), back.has(1001), back.has(299_998)]).toEqual([
      true,
      true,
      true,
      false,
      true,
    ]);
    expect(() => IdBitmap.decode({ ...rec, count: rec.count + 1 })).toThrow(/does not match/);
  });

  it("the n highest IDs of several nodes' ranges are found without expanding them", () => {
    const sets = {
      a: [{ first: 1, last: 999_997, step: 3 }],
      b: [{ first: 2, last: 999_998, step: 3 }],
      c: [{ first: 3, last: 999_999, step: 3 }],
    };
    const top = highest(sets, 300_000);
    expect(top).toEqual({
      a: [{ first: 700_000, last: 999_997, step: 3 }],
      b: [{ first: 700_001, last: 999_998, step: 3 }],
      c: [{ first: 700_002, last: 999_999, step: 3 }],
    });
    expect(
      Object.values(top)
        .flat()
        .reduce((n, p) => n + progressionSize(p), 0),
    ).toBe(300_000);
    expect(highest({ a: [{ first: 5, last: 5, step: 1 }] }, 10)).toEqual({ a: [{ first: 5, last: 5, step: 1 }] });
    expect(toProgressions([10, 4, 7, 1, 20])).toEqual([
      { first: 1, last: 10, step: 3 },
      { first: 20, last: 20, step: 1 },
    ]);
  });
});
