/**
 * The server-under-test settings turned into a run's sampler: one adapter per entry of sut_metrics_url (a /metrics
 * URL, or ejabberd's API) and one for sut_process. `prepare` runs before a run is recorded, so a process that cannot
 * be found refuses the run (UsageError) instead of recording one without its server.
 */
import { systemClock, type Clock } from "../clock.js";
import { EJABBERD_API_SCHEME } from "../config/sut-settings.js";
import type { NodeSettings } from "../config/schema.js";
import type { Logger } from "../log.js";
import { EjabberdApi } from "./ejabberd-api.js";
import { MetricsScraper, type FetchFn } from "./metrics-scraper.js";
import { findProcess } from "./process-find.js";
import { ProcessSampler } from "./process-sampler.js";
import { systemProc, type ProcReader } from "./proc-reader.js";
import { SutSampler } from "./sampler.js";
import { parseSelect } from "./select.js";
import type { SutSource } from "./source.js";

export type SutSettings = Pick<NodeSettings, "sut_metrics_url" | "sut_metrics_select" | "sut_process" | "xmpp_servers">;

/** The ports the run talks to on this machine: where the server named by sut_process should listen. */
function localPorts(s: SutSettings): number[] {
  const out: number[] = [];
  for (const u of [...s.xmpp_servers, ...s.sut_metrics_url.map((x) => x.replace(EJABBERD_API_SCHEME, ""))]) {
    try {
      const url = new URL(u);
      const port = Number(url.port || { "xmpp:": 5222, "xmpps:": 5223, "http:": 80, "https:": 443 }[url.protocol]);
      if (/^(127\.|\[::1\]$|localhost$)/.test(url.hostname) && port) out.push(port);
    } catch {
      // not a URL: the settings check refused it already
    }
  }
  return out;
}

/** What the sampler is built with (tests: a fake clock, fixed /proc text, a fetch that answers from memory). */
export interface SutDeps {
  clock?: Clock;
  log?: Logger;
  proc?: ProcReader;
  fetchFn?: FetchFn;
}

/** A node's server-under-test plan: builds one sampler per run. */
export interface SutPlan {
  /** A fresh sampler for a run of `intervalMs` intervals; throws UsageError when sut_process names no process. */
  prepare(intervalMs: number): SutSampler;
}

/** The plan for these settings, or undefined when they watch nothing. Bad globs throw UsageError here. */
export function sutPlan(s: SutSettings, deps: SutDeps = {}): SutPlan | undefined {
  if (s.sut_metrics_url.length === 0 && s.sut_process === "") return undefined;
  const selectors = parseSelect(s.sut_metrics_select);
  const clock = deps.clock ?? systemClock;
  return {
    prepare(intervalMs) {
      const sources: SutSource[] = s.sut_metrics_url.map((url) =>
        url.startsWith(EJABBERD_API_SCHEME)
          ? new EjabberdApi(url, deps.fetchFn)
          : new MetricsScraper(url, selectors, clock, deps.fetchFn),
      );
      if (s.sut_process !== "") {
        const proc = deps.proc ?? systemProc;
        sources.push(new ProcessSampler(findProcess(s.sut_process, proc, localPorts(s)), clock, proc));
      }
      return new SutSampler(sources, clock, intervalMs, deps.log);
    },
  };
}
