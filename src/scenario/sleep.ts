/** A plain timer sleep: what `InitContext.sleep` does (init runs before any user, so nothing aborts it). */
export function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
