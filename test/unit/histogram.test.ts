import { describe, expect, it } from "vitest";
import { Histogram, indexOfValue, percentileMs, timingStats } from "../../src/results/histogram.js";

describe("Histogram", () => {
  it("puts values in HDR's buckets for 1 µs and 3 significant digits", () => {
    // the indexes hdr-histogram-js gives for the same values (the layout stored runs were written in)
    const known: Array<[number, number]> = [
      [1, 1],
      [999, 999],
      [2047, 2047],
      [2048, 2048],
      [987_654, 11_145],
      [5e9, 23_720],
    ];
    for (const [us, index] of known) expect(indexOfValue(us)).toBe(index);
  });

  it("shows the exact max, and no percentile above it", () => {
    const h = new Histogram();
    for (let i = 1; i <= 99; i++) h.recordMs(i);
    h.recordMs(987.654);
    const s = timingStats(h);
    expect(s.max).toBe(987.65);
    expect(s.min).toBe(1);
    expect(s.count).toBe(100);
    expect(s.p99).toBeLessThanOrEqual(s.max);
    expect(percentileMs(h, 100)).toBe(987.65);
    expect(s.mean).toBeCloseTo((99 * 50 + 987.654) / 100, 2);
  });

  it("keeps the exact min, max and sum through encoding and merging", () => {
    const a = new Histogram();
    const b = new Histogram();
    a.recordMs(3.3333);
    a.recordMs(10);
    b.recordMs(0.25);
    b.recordMs(987.654);
    const m = Histogram.decode(a.encode());
    m.addEncoded(b.encode());
    const s = timingStats(m);
    expect([s.count, s.min, s.max]).toEqual([4, 0.25, 987.65]);
    expect(s.mean).toBeCloseTo((3.3333 + 10 + 0.25 + 987.654) / 4, 2);
  });

  it("reads a histogram stored without the exact header, with bucket bounds as min and max", () => {
    const h = new Histogram();
    h.recordMs(987.654);
    const bucketsOnly = h.encode().split(":")[1] as string;
    expect(timingStats(Histogram.decode(bucketsOnly)).max).toBe(988.16);
  });

  it("refuses a malformed encoding", () => {
    expect(() => Histogram.decode("1,2:AAA")).toThrow(/malformed/);
  });

  it("encodes an empty histogram as an empty string", () => {
    expect(new Histogram().encode()).toBe("");
    expect(timingStats(Histogram.decode("")).count).toBe(0);
  });
});
