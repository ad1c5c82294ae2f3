/** Graphite annotations: every `run.event` on the bus is logged and POSTed to graphite-web's events API. */
import { TimeoutError, errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import type { Telemetry, TelemetryEvents } from "../telemetry.js";
import { RateLimitedLog } from "./rate-limited-log.js";

/** One POST may take this long; the amoc 0.9 annotations used the same bound. */
export const ANNOTATION_TIMEOUT_MS = 5000;

type RunEvent = TelemetryEvents["run.event"];

/** The JSON body graphite-web's `POST /events/` takes; `when` is epoch seconds. */
export interface AnnotationBody {
  what: string;
  tags: string[];
  when: number;
  data: string;
}

/** What the annotations need. */
export interface AnnotationsOptions {
  telemetry: Telemetry;
  /** graphite-web events API, e.g. http://127.0.0.1:8080/events/ */
  url: string;
  nodeName: string;
  log: Logger;
  timeoutMs?: number;
  /** Global fetch unless a test swaps it. */
  fetchFn?: typeof fetch;
}

function str(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** A one-line, human description of a run event: scenario, user range, counts, comment and where it happened. */
export function describeRunEvent(e: RunEvent, nodeName: string): string {
  const d = e.data;
  const scenario = typeof d.scenario === "string" ? ` ${d.scenario}` : "";
  const where = Array.isArray(d.nodes) && d.nodes.length > 0 ? ` on ${d.nodes.map(str).join(",")}` : ` on ${nodeName}`;
  let detail: string;
  switch (e.kind) {
    case "do":
    case "add":
      detail = `users ${str(d.from)}..${str(d.to)} (${str(d.users)})${typeof d.workers === "number" ? ` over ${d.workers} workers` : ""}`;
      break;
    case "remove":
      detail = `${str(d.removed ?? d.requested)} of ${str(d.requested)} users removed${d.force === true ? " (forced)" : ""}`;
      break;
    case "stop":
      detail = `stopped: ${str(d.started ?? 0)} started, ${str(d.finished ?? 0)} finished, ${str(d.crashed ?? 0)} crashed, ${str(d.removed ?? 0)} removed`;
      break;
    case "node_up":
    case "node_down":
      return `amoc node ${e.kind === "node_up" ? "up" : "down"}: ${str(d.node ?? nodeName)}${typeof d.redealt === "number" ? `, ${d.redealt} users re-dealt` : ""}`;
    // the rest are described by their data
    case "node_left":
    case "settings":
    default: {
      const skip = new Set(["scenario", "nodes", "comment", "workers"]);
      detail = Object.entries(d)
        .filter(([k]) => !skip.has(k))
        .map(([k, v]) => `${k}=${str(v)}`)
        .join(", ");
    }
  }
  const comment = typeof d.comment === "string" && d.comment !== "" ? ` - ${d.comment}` : "";
  return `amoc ${e.kind}${scenario}: ${detail}${where}${comment}`;
}

/** The body posted for a run event: tags `["amoc", kind]`, the event's data (and the reporting node) as JSON. */
export function annotationBody(e: RunEvent, nodeName: string, nowMs = Date.now()): AnnotationBody {
  return {
    what: describeRunEvent(e, nodeName),
    tags: ["amoc", e.kind],
    when: nowMs / 1000,
    data: JSON.stringify({ kind: e.kind, reported_by: nodeName, ...e.data }),
  };
}

/** Posts annotations as run events happen; a failed or slow POST is logged (rate-limited), never thrown. */
export class GraphiteAnnotations {
  private readonly pending = new Set<Promise<void>>();
  private readonly errors: RateLimitedLog;
  private readonly off: () => void;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;
  private sent = 0;

  constructor(private readonly o: AnnotationsOptions) {
    this.errors = new RateLimitedLog(o.log, "annotation_failed");
    this.timeoutMs = o.timeoutMs ?? ANNOTATION_TIMEOUT_MS;
    this.fetchFn = o.fetchFn ?? fetch;
    this.off = o.telemetry.on("run.event", (e) => this.post(annotationBody(e, o.nodeName)), "graphite-annotations");
  }

  /** Annotations accepted by graphite-web so far. */
  get delivered(): number {
    return this.sent;
  }

  private post(body: AnnotationBody): void {
    this.o.log.info({ msg: "annotation", what: body.what, tags: body.tags });
    const p = this.send(body).finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  private async send(body: AnnotationBody): Promise<void> {
    try {
      const signal = AbortSignal.timeout(this.timeoutMs);
      const res = await this.fetchFn(this.o.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal,
      });
      // read the body so the keep-alive connection is free again; the signal bounds this read too
      const text = await res.text();
      if (res.ok) this.sent++;
      else
        this.errors.warn(new Error(`HTTP ${res.status}: ${text.slice(0, 200)}`), { url: this.o.url, what: body.what });
    } catch (e) {
      const err =
        e instanceof Error && e.name === "TimeoutError"
          ? new TimeoutError(`POST ${this.o.url}`, this.timeoutMs, "check graphite_events_url and graphite-web")
          : e;
      this.errors.warn(err, { url: this.o.url, what: body.what, cause: errorMessage(e) });
    }
  }

  /** Stops listening and waits for the POSTs in flight (each bounded by the timeout). */
  async close(): Promise<void> {
    this.off();
    await Promise.allSettled([...this.pending]);
  }
}
