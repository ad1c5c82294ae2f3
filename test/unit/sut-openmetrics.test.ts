import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { UsageError } from "../../src/errors.js";
import { familyType, OpenMetricsSyntaxError, parseOpenMetrics } from "../../src/sut/openmetrics.js";
import { parseSelect, parseSelector, selectValues } from "../../src/sut/select.js";

/** What Prosody 0.12's mod_http_openmetrics prints (trimmed), with 2 authenticated and 1 unauthenticated session. */
const PROSODY = `# HELP prosody_mod_c2s__connections Established c2s connections
# UNIT prosody_mod_c2s__connections 
# TYPE prosody_mod_c2s__connections gauge
prosody_mod_c2s__connections{host="localhost",type="c2s",ip_family="ipv4"} 2
prosody_mod_c2s__connections{host="localhost",type="c2s",ip_family="ipv6"} 0
prosody_mod_c2s__connections{host="",type="c2s_unauthed",ip_family="ipv4"} 1
# HELP prosody_mod_bosh__bad_sid mod_bosh/bad_sid counter
# TYPE prosody_mod_bosh__bad_sid counter
prosody_mod_bosh__bad_sid_created 1796418185.9167557
prosody_mod_bosh__bad_sid_total 7
# TYPE prosody_stats_processing_seconds histogram
prosody_stats_processing_seconds_bucket{le="0.001"} 1
prosody_stats_processing_seconds_bucket{le="+Inf"} 1
prosody_stats_processing_seconds_count 1
prosody_stats_processing_seconds_sum 1.430511474609375e-06
# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 2.4e+07
# EOF
`;

describe("the OpenMetrics text parser", () => {
  it("reads Prosody's exposition: names, labels, values, and each family's TYPE", () => {
    const e = parseOpenMetrics(PROSODY);
    expect(e.samples).toHaveLength(10);
    expect(e.samples[0]).toEqual({
      name: "prosody_mod_c2s__connections",
      labels: { host: "localhost", type: "c2s", ip_family: "ipv4" },
      value: 2,
    });
    expect(e.samples.find((s) => s.name === "process_resident_memory_bytes")?.value).toBe(24_000_000);
    expect(familyType(e, "prosody_mod_bosh__bad_sid_total")).toBe("counter");
    expect(familyType(e, "prosody_stats_processing_seconds_count")).toBe("histogram");
    expect(familyType(e, "untyped_thing_total")).toBe("counter");
  });

  it("reads escaped label values, NaN and infinities, timestamps and exemplars", () => {
    const e = parseOpenMetrics(
      'a{path="C:\\\\x",q="say \\"hi\\"\\n"} NaN\nb +Inf 1700000000000\nc_total 5 # {trace_id="x"} 1\nd -Inf\n',
    );
    expect(e.samples[0]?.labels).toEqual({ path: "C:\\x", q: 'say "hi"\n' });
    expect(e.samples[0]?.value).toBeNaN();
    expect(e.samples.map((s) => s.value).slice(1)).toEqual([Infinity, 5, -Infinity]);
  });

  it("names the line of a sample it cannot read", () => {
    expect(() => parseOpenMetrics("ok 1\n<html>\n")).toThrow(OpenMetricsSyntaxError);
    expect(() => parseOpenMetrics("ok 1\nbad{x=1} 2\n")).toThrow(/line 2: expected ="..." after x/);
    expect(() => parseOpenMetrics("x one\n")).toThrow(/line 1: 'one' is not a sample value of x/);
  });

  it("reads back any exposition it is given, whatever the label values hold", () => {
    const name = fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,20}$/);
    const label = fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,10}$/);
    const sample = fc.record({
      name,
      labels: fc.dictionary(label, fc.string({ maxLength: 12 }), { maxKeys: 3 }),
      value: fc.double({ noNaN: true }),
    });
    fc.assert(
      fc.property(fc.array(sample, { maxLength: 20 }), (samples) => {
        const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
        const text = samples
          .map((s) => {
            const ls = Object.entries(s.labels).map(([k, v]) => `${k}="${esc(v)}"`);
            const v = Number.isFinite(s.value) ? String(s.value) : s.value > 0 ? "+Inf" : "-Inf";
            return `${s.name}${ls.length ? `{${ls.join(",")}}` : ""} ${v}`;
          })
          .join("\n");
        const back = parseOpenMetrics(text).samples;
        expect(back).toEqual(samples.map((s) => ({ ...s, value: s.value === 0 ? 0 : s.value })));
      }),
      { numRuns: 100 },
    );
  });
});

describe("metric selection (AMOC_SUT_METRICS_SELECT)", () => {
  it("keeps the globs' series summed over label sets, counters apart, and Prosody's c2s sessions by default", () => {
    const v = selectValues(parseOpenMetrics(PROSODY), parseSelect([]));
    expect(v.sessions).toBe(2);
    expect(v.gauges).toEqual({ prosody_mod_c2s__connections: 2, process_resident_memory_bytes: 24_000_000 });
    expect(v.counters).toEqual({});
  });

  it("matches * and ? globs and label matchers, skipping buckets and creation times", () => {
    const e = parseOpenMetrics(PROSODY);
    const v = selectValues(e, parseSelect(["prosody_mod_bosh__*", "prosody_stats_?rocessing_seconds*"]));
    expect(v.counters).toEqual({
      prosody_mod_bosh__bad_sid_total: 7,
      prosody_stats_processing_seconds_count: 1,
      prosody_stats_processing_seconds_sum: 1.430511474609375e-6,
    });
    const unauthed = selectValues(e, parseSelect(['prosody_mod_c2s__connections{type="c2s_unauthed"}']));
    expect(unauthed.gauges).toEqual({ prosody_mod_c2s__connections: 1 });
  });

  it("splits the list on commas outside label matchers", () => {
    const sels = parseSelect(['a{x="1",y="2"}', "b*"]);
    expect(sels.map((s) => s.text)).toEqual(['a{x="1",y="2"}', "b*"]);
    expect(sels[0]?.labels).toEqual({ x: "1", y: "2" });
    // the way convict hands over a list: already split at every comma
    expect(parseSelect(['a{x="1"', 'y="2"}', "b*"]).map((s) => s.text)).toEqual(['a{x="1",y="2"}', "b*"]);
  });

  it("refuses a glob with other characters or a broken label matcher, saying how to write one", () => {
    expect(() => parseSelector("cpu usage")).toThrow(UsageError);
    expect(() => parseSelector("a{type=c2s}")).toThrow(/'type=c2s' is not a label matcher like type="c2s"/);
  });

  it("counts an empty sessions gauge as no sessions: Prosody prints no line for it", () => {
    const e = parseOpenMetrics("# TYPE prosody_mod_c2s__connections gauge\n");
    expect(selectValues(e, parseSelect([])).sessions).toBe(0);
    expect(selectValues(parseOpenMetrics("x 1\n"), parseSelect([])).sessions).toBeUndefined();
  });
});
