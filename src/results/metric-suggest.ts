/**
 * "Did you mean": the known metric name nearest to a mistyped one, so a threshold on `users.crashd` is refused (or
 * judged "no such metric") with the name the user most likely meant.
 */
import { CORE_METRIC_NAMES, XMPP_COUNTER_NAMES, XMPP_TIMING_NAMES } from "../metrics/names.js";
import { SUT_NAMES } from "./sut-series.js";

/** Every metric name known before a run: the core's, the XMPP helpers' and the server under test's (sut-series.ts). */
export const BUILTIN_NAMES: readonly string[] = [
  ...CORE_METRIC_NAMES,
  ...XMPP_TIMING_NAMES,
  ...XMPP_COUNTER_NAMES,
  ...SUT_NAMES,
];

/** Edit distance (insertions, deletions, substitutions), cut off above `max` (returns max + 1). */
export function editDistance(a: string, b: string, max = 3): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(
        (prev[j] as number) + 1,
        (cur[j - 1] as number) + 1,
        (prev[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length] as number;
}

/** The nearest of `known` to `name` within a few edits (scaled to the name's length), or undefined. */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  const max = Math.min(3, Math.max(1, Math.floor(name.length / 4)));
  let best: string | undefined;
  let bestD = max + 1;
  for (const k of known) {
    if (k === name) return k;
    const d = editDistance(name, k, max);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

/** "no such metric: X" with the nearest known name when there is one. */
export function noSuchMetric(name: string, known: Iterable<string>): string {
  const near = nearestName(name, known);
  return `no such metric: ${name}${near && near !== name ? `; did you mean ${near}?` : ""}`;
}

/**
 * A name within a few edits of a built-in metric but not one of them: a typo of a built-in name, which can be refused
 * before the run starts (a name far from all of them may be the scenario's own, known only once the run recorded it).
 */
export function builtinTypo(name: string): string | undefined {
  if (BUILTIN_NAMES.includes(name)) return undefined;
  const near = nearestName(name, BUILTIN_NAMES);
  return near && near !== name ? near : undefined;
}
