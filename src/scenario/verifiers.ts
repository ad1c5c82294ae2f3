/**
 * Stock `verify` functions for scenario variables: each returns true, or a reason the run's error names
 * ("variable 'message_count' must be an integer >= 1, got 0").
 */

/** An integer >= 1 (`infinity` is not one). */
export function positiveInt(v: number): true | string {
  return (Number.isInteger(v) && v >= 1) || "must be an integer >= 1";
}

/** A number >= 0, fractions allowed (`infinity` is not one). */
export function nonNegative(v: number): true | string {
  return (Number.isFinite(v) && v >= 0) || "must be a number >= 0";
}

/** One of the listed values: `verify: oneOf("tcp", "tls", "ws")`. */
export function oneOf(...allowed: ReadonlyArray<string | number | boolean>): (v: unknown) => true | string {
  return (v) => allowed.includes(v as string) || `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`;
}

/** A duration in ms: a finite number >= 0, at most a day (a guard against seconds given as ms). */
export function duration(v: number): true | string {
  return (Number.isFinite(v) && v >= 0 && v <= 86_400_000) || "must be a duration in ms between 0 and 86400000 (a day)";
}
