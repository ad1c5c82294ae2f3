/**
 * ejabberd's mod_http_api adapter, for ejabberd 23.01 (Debian), which has no Prometheus module: `connected_users_number`
 * (its session count, stored as `sut.sessions`) and `stats processes` (Erlang processes, a proxy of its load), polled
 * each interval. Named in AMOC_SUT_METRICS_URL as `ejabberd-api+http://127.0.0.1:5280/api` (the API's base URL with
 * the `ejabberd-api+` prefix); the listener must let 127.0.0.1 call those commands without auth (api_permissions).
 */
import { EJABBERD_API_SCHEME } from "../config/sut-settings.js";
import { errorMessage, SutSampleError } from "../errors.js";
import { SCRAPE_TIMEOUT_MS, type FetchFn } from "./metrics-scraper.js";
import type { SutSource } from "./source.js";

const HINT =
  "ejabberd must serve mod_http_api at that URL to 127.0.0.1 (api_permissions: from mod_http_api, who: {ip: 127.0.0.1/8}); scripts/servers.sh sets it up";

/** One ejabberd node's API; see the file comment. */
export class EjabberdApi implements SutSource {
  readonly merge = "sum";
  private readonly base: string;

  constructor(
    readonly name: string,
    private readonly fetchFn: FetchFn = fetch,
    private readonly timeoutMs = SCRAPE_TIMEOUT_MS,
  ) {
    this.base = name.slice(EJABBERD_API_SCHEME.length).replace(/\/+$/, "");
  }

  async sample(): Promise<Record<string, number>> {
    const [sessions, processes] = await Promise.all([
      this.call("connected_users_number", {}, "num_sessions"),
      this.call("stats", { name: "processes" }, "stat"),
    ]);
    return { "sut.sessions": sessions, "sut.ejabberd_processes": processes };
  }

  /** POSTs one command and reads one number field of its JSON answer. */
  private async call(command: string, args: Record<string, unknown>, field: string): Promise<number> {
    const url = `${this.base}/${command}`;
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        signal: AbortSignal.timeout(this.timeoutMs),
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(args),
      });
    } catch (e) {
      throw new SutSampleError(`POST ${url} failed: ${errorMessage((e as { cause?: unknown }).cause ?? e)}`, HINT, {
        cause: e,
      });
    }
    const text = await res.text();
    if (!res.ok) throw new SutSampleError(`POST ${url} answered ${res.status}: ${text.slice(0, 200)}`, HINT);
    let v: unknown;
    try {
      v = (JSON.parse(text) as Record<string, unknown>)[field];
    } catch {
      v = undefined;
    }
    if (typeof v !== "number")
      throw new SutSampleError(`POST ${url} answered no number '${field}': ${text.slice(0, 200)}`, HINT);
    return v;
  }
}
