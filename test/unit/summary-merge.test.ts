import { describe, expect, it } from "vitest";
import { SummaryCollector, checkEncodedSummary, type TimingSummary } from "../../src/results/summary.js";
import { Telemetry } from "../../src/telemetry.js";

/** A collector fed with the given timings (ms) and counters, as one node's run would feed it. */
function node(timings: number[], counters: Record<string, number>): SummaryCollector {
  const t = new Telemetry();
  const c = new SummaryCollector(t);
  for (const v of timings) t.emit("metric", { kind: "timing", name: "xmpp.message_ttd", value: v });
  for (const [k, v] of Object.entries(counters)) t.emit("metric", { kind: "count", name: k, value: v });
  t.emit("metric", { kind: "gauge", name: "users.running", value: timings.length });
  return c;
}

describe("summary export and merge", () => {
  it("the merged p99 is the p99 of all the values, not an average of per-node p99s", () => {
    // node a is fast and has many values, node b is slow and has few: averaging their p99s would say ~2500 ms
    const a = Array.from({ length: 9900 }, (_, i) => 1 + (i % 100));
    const b = Array.from({ length: 100 }, (_, i) => 5000 + i);
    const merged = SummaryCollector.merged([
      node(a, { "xmpp.messages_sent": 9900 }).exportEncoded(),
      node(b, { "xmpp.messages_sent": 100 }).exportEncoded(),
    ]);
    const all = new SummaryCollector(undefined);
    all.merge(node([...a, ...b], { "xmpp.messages_sent": 10_000 }).exportEncoded());
    const m = merged.snapshot();
    expect(m["xmpp.messages_sent"]).toEqual({ count: 10_000 });
    const ttd = m["xmpp.message_ttd"] as TimingSummary;
    expect(ttd).toEqual(all.snapshot()["xmpp.message_ttd"]);
    expect(ttd.count).toBe(10_000);
    // the exact 99th percentile of all values is 100 ms (the 9,900th smallest); HDR keeps 3 significant digits
    expect(ttd.p99).toBeCloseTo(100, 0);
    expect(ttd.max).toBeCloseTo(5099, -1);
    expect(merged.gauge("users.running")).toBe(10_000);
  });

  it("an encoded summary survives JSON and a malformed one is rejected with a reason", () => {
    const e = JSON.parse(JSON.stringify(node([3, 4], { x: 1 }).exportEncoded())) as unknown;
    expect(checkEncodedSummary(e)).toBeUndefined();
    expect(checkEncodedSummary({ counters: { x: "1" }, gauges: {}, timings: {} })).toBe("counters.x must be a number");
    expect(() => new SummaryCollector(undefined).merge({ counters: {}, gauges: {}, timings: 5 } as never)).toThrow(
      /timings must be an object/,
    );
  });

  it("a timing's mean is that of all the merged values", () => {
    const merged = SummaryCollector.merged([node([10, 20, 30], {}).exportEncoded(), node([100], {}).exportEncoded()]);
    const ttd = merged.snapshot()["xmpp.message_ttd"] as TimingSummary;
    expect(ttd.mean).toBeCloseTo(40, 0);
  });

  it("xmpp.stanzas_buffered is left out of the summary unless a stanza was dropped", () => {
    const clean = SummaryCollector.merged([
      node([1], { "xmpp.stanzas_buffered": 40_527, "xmpp.messages_sent": 3 }).exportEncoded(),
    ]).snapshot();
    expect(clean["xmpp.stanzas_buffered"]).toBeUndefined();
    expect(clean["xmpp.messages_sent"]).toEqual({ count: 3 });
    const dropped = SummaryCollector.merged([
      node([1], { "xmpp.stanzas_buffered": 500 }).exportEncoded(),
      node([1], { "xmpp.stanzas_dropped": 2 }).exportEncoded(),
    ]).snapshot();
    expect(dropped["xmpp.stanzas_buffered"]).toEqual({ count: 500 });
    expect(dropped["xmpp.stanzas_dropped"]).toEqual({ count: 2 });
  });

  it("an export is encoded again only when something was recorded since, or when the cached one is too old", () => {
    const t = new Telemetry();
    const c = new SummaryCollector(t);
    t.emit("metric", { kind: "timing", name: "xmpp.message_ttd", value: 5 });
    const a = c.exportEncoded();
    expect(c.exportEncoded()).toBe(a); // nothing new: the same encoding, no histogram encoded again
    t.emit("metric", { kind: "timing", name: "xmpp.message_ttd", value: 6 });
    expect(c.exportEncoded(60_000)).toBe(a); // status may reuse a young export
    const b = c.exportEncoded(); // stop asks for a current one
    expect(b).not.toBe(a);
    expect(SummaryCollector.merged([b]).snapshot()["xmpp.message_ttd"]).toMatchObject({ count: 2 });
  });
});
