/**
 * One node's measurements over one interval of a run, in the form that travels and is stored: counters (sums over
 * the interval), gauges (the value at its end) and timings (histograms, results/histogram.ts). One message per node
 * per interval; a cluster worker would send exactly this to its master.
 */

/** The wire and storage form of one node's interval (JSON). */
export interface EncodedInterval {
  /** Format version. */
  v: 1;
  node: string;
  /** Start of the interval, epoch ms, a multiple of `ms` (so nodes' intervals line up). */
  t: number;
  /** Interval length, ms. */
  ms: number;
  /** Counter increments during the interval. */
  c: Record<string, number>;
  /** Gauge values at the end of the interval. */
  g: Record<string, number>;
  /** Timing histograms (µs) of the interval, in results/histogram.ts's encoding (exact min, max, sum and buckets). */
  h: Record<string, string>;
}

/** A run event in the series: do, add, remove, stop, settings, node up/down, threshold breaches. */
export interface RunEventRecord {
  /** Epoch ms. */
  t: number;
  kind: string;
  /** The node that reported it ('' when not known). */
  node: string;
  data: Record<string, unknown>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Why a value is not an EncodedInterval (undefined: it is one). Histograms are checked when decoded. */
export function checkEncodedInterval(v: unknown): string | undefined {
  if (!isRecord(v)) return "must be an object";
  if (v.v !== 1) return "v must be 1";
  if (typeof v.node !== "string" || v.node === "") return "node must be a non-empty string";
  if (typeof v.t !== "number" || !Number.isSafeInteger(v.t)) return "t must be an integer (epoch ms)";
  if (typeof v.ms !== "number" || !(v.ms > 0)) return "ms must be > 0";
  for (const [part, want] of [
    ["c", "number"],
    ["g", "number"],
    ["h", "string"],
  ] as const) {
    const o = v[part];
    if (!isRecord(o)) return `${part} must be an object`;
    for (const [k, x] of Object.entries(o))
      if (typeof x !== want || (want === "number" && !Number.isFinite(x))) return `${part}.${k} must be a ${want}`;
  }
  return undefined;
}

/** The interval as one compact JSON string (what goes on the wire and into the store). */
export function encodeInterval(i: EncodedInterval): string {
  return JSON.stringify(i);
}

/** Parses and checks an interval; throws an Error naming what is wrong. */
export function decodeInterval(s: string): EncodedInterval {
  let v: unknown;
  try {
    v = JSON.parse(s);
  } catch (e) {
    throw new Error(`malformed interval: ${(e as Error).message}`);
  }
  const bad = checkEncodedInterval(v);
  if (bad) throw new Error(`malformed interval: ${bad}`);
  return v as EncodedInterval;
}
