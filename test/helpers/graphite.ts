/** Reads back what landed in graphite-web (render API and events API), with bounded polling. */
import { graphiteWeb } from "./endpoints.js";

/** One series of the render API: [value | null, epoch s] pairs. */
export interface Series {
  target: string;
  datapoints: Array<[number | null, number]>;
}

/** A graphite-web event. */
export interface GraphiteEvent {
  when: number;
  what: string;
  tags: string[];
  data: string;
  id: number;
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(`${graphiteWeb()}${path}`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** `/render?target=...&format=json` over the last `from` (keep it small: 1 s points). */
export function render(target: string, from = "-5min"): Promise<Series[]> {
  return getJson<Series[]>(`/render?target=${encodeURIComponent(target)}&from=${encodeURIComponent(from)}&format=json`);
}

/** The non-null values of every series of a render. */
export function values(series: Series[]): number[] {
  return series.flatMap((s) => s.datapoints.map((p) => p[0]).filter((v): v is number => v !== null));
}

/** Events tagged `tags` since `from`. */
export function events(tags: string, from = "-10min"): Promise<GraphiteEvent[]> {
  return getJson<GraphiteEvent[]>(`/events/get_data?tags=${encodeURIComponent(tags)}&from=${encodeURIComponent(from)}`);
}

/** Calls `probe` every `everyMs` until it returns a value other than undefined; throws with the last value after `timeoutMs`. */
export async function poll<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
  everyMs = 500,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
