/**
 * A search's outcome from its judged steps (in the order they ran, refinement steps included): the capacity is the
 * largest passing level below the lowest failing one; a step limited by the generator caps what was measured.
 */
import type { CapacityBy, CapacityRecord, CapacityStep } from "../../results/capacity-record.js";

export function searchOutcome(steps: readonly CapacityStep[], by: CapacityBy): CapacityRecord {
  const limited = steps.find((s) => s.health.limited);
  const failing = steps.filter((s) => !s.ok && !s.health.limited).sort((a, b) => a.users - b.users)[0];
  // nothing at or above a failing level, or at or above a generator-limited one, counts as held
  const ceiling = Math.min(failing?.users ?? Infinity, limited?.users ?? Infinity);
  const capacity = Math.max(
    0,
    ...steps.filter((s) => s.ok && !s.health.limited && s.users < ceiling).map((s) => s.users),
  );
  // the first failing SLO of the lowest failing step (or of the limited one when it came first)
  const worst = limited && limited.users <= (failing?.users ?? Infinity) ? limited : failing;
  const first = worst?.slos.find((r) => !r.ok);
  return {
    by,
    capacity,
    steps: [...steps],
    broke: first ? { slo: first.expr, actual: first.actual, limit: first.value, message: first.message } : null,
    generatorLimited: limited && limited.users <= (failing?.users ?? Infinity) ? limited.health.limited : null,
  };
}
