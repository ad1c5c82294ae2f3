/** Reading a load shape's start instants, for the unit (fake time) and timing (wall clock) tests of stages. */

/** How many of the instants `ms` (ms after t0) fall in each of the first `seconds` seconds. */
export function perSecond(ms: number[], seconds: number): number[] {
  const out = new Array<number>(seconds).fill(0);
  for (const t of ms) {
    const s = Math.floor(t / 1000);
    if (s >= 0 && s < seconds) out[s]!++;
  }
  return out;
}
