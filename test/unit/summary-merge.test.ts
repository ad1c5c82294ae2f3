import { describe, expect, it } from "vitest";
import { SummaryCollector, checkEncodedSummary, type TimingSummary } from "../../src/metrics/summary.js";
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
    const merged = SummaryCollector.merged([node(a, { "xmpp.messages_sent": 9900 }).exportEncoded(), node(b, { "xmpp.messages_sent": 100 }).exportEncoded()]);
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
    expect(() => new SummaryCollector(undefined).merge({ counters: {}, gauges: {}, timings: 5 } as never)).toThrow(/timings must be an object/);
  });
});
