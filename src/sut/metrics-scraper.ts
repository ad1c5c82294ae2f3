/**
 * The Prometheus/OpenMetrics adapter: GET a `/metrics` URL (Prosody's mod_http_openmetrics, MongooseIM, ejabberd's
 * mod_prometheus, node_exporter), keep the selected series (select.ts) as `sut.*` values, counters as rates.
 */
import type { Clock } from "../clock.js";
import { errorMessage, SutSampleError } from "../errors.js";
import { OpenMetricsSyntaxError, parseOpenMetrics } from "./openmetrics.js";
import { Rates } from "./rates.js";
import { PROCESS_ALIASES, selectValues, type Selector } from "./select.js";
import type { SutSource } from "./source.js";

/** How long one scrape may take: it must end well within a results interval. */
export const SCRAPE_TIMEOUT_MS = 2000;

/** `fetch`'s shape, so unit tests can answer without a server. */
export type FetchFn = (url: string, init: RequestInit & { signal: AbortSignal }) => Promise<Response>;

/** One metrics URL; see the file comment. */
export class MetricsScraper implements SutSource {
  readonly merge = "sum";
  private readonly rates = new Rates();

  constructor(
    readonly name: string,
    private readonly selectors: readonly Selector[],
    private readonly clock: Clock,
    private readonly fetchFn: FetchFn = fetch,
    private readonly timeoutMs = SCRAPE_TIMEOUT_MS,
  ) {}

  async sample(): Promise<Record<string, number>> {
    const t = this.clock.now();
    const text = await this.get();
    let exposition;
    try {
      exposition = parseOpenMetrics(text);
    } catch (e) {
      const why = e instanceof OpenMetricsSyntaxError ? e.message : errorMessage(e);
      throw new SutSampleError(
        `${this.name} did not answer in the Prometheus text format: ${why}`,
        "AMOC_SUT_METRICS_URL must name a /metrics endpoint (ejabberd's API: ejabberd-api+http://...)",
      );
    }
    const { gauges, counters, sessions } = selectValues(exposition, this.selectors);
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(gauges)) out[`sut.${k}`] = v;
    for (const [k, v] of Object.entries(this.rates.next(t, counters))) out[`sut.${k}_per_s`] = v;
    for (const [from, to] of Object.entries(PROCESS_ALIASES)) {
      const v = out[`sut.${from}`];
      if (v !== undefined) out[to] = v;
    }
    if (sessions !== undefined) out["sut.sessions"] = sessions;
    return out;
  }

  private async get(): Promise<string> {
    let res: Response;
    try {
      res = await this.fetchFn(this.name, {
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { accept: "application/openmetrics-text; version=1.0.0, text/plain; version=0.0.4" },
      });
    } catch (e) {
      throw new SutSampleError(
        `GET ${this.name} failed: ${errorMessage((e as { cause?: unknown }).cause ?? e)}`,
        "check the server runs and serves its metrics there (Prosody: mod_http_openmetrics on its http port)",
        { cause: e },
      );
    }
    if (!res.ok)
      throw new SutSampleError(
        `GET ${this.name} answered ${res.status} ${res.statusText}`,
        'Prosody answers 403 to addresses outside openmetrics_allow_ips and 404 without statistics = "internal"',
      );
    return res.text();
  }
}
