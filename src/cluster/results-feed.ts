/**
 * The master side of a run's time series: subscribes to every run's results subject, decodes the workers'
 * intervals and hands them to the recorder that follows the feed, together with the cluster's live workers (the
 * nodes whose part of each interval it waits for). One feed per node (keyed by its telemetry), so a command can
 * follow it before the node has joined the cluster and the cluster join can connect it afterwards. Each worker's
 * last interval of a run is marked final: `whenFinal` tells the master's stop when it has been delivered.
 */
import { systemClock, type Clock } from "../clock.js";
import type { Logger } from "../log.js";
import type { EncodedInterval } from "../results/interval.js";
import type { Telemetry } from "../telemetry.js";
import type { ClusterBus } from "./bus.js";
import { decode, type ResultsMsg } from "./protocol.js";
import type { Subjects } from "./subjects.js";

/** Runs whose final intervals are remembered (a stop asks about the run it just stopped). */
const FINAL_RUNS = 4;

/** What follows the feed (a run recording). */
export interface ResultsSink {
  addInterval(i: EncodedInterval): void;
  /** The workers whose part of each interval to wait for. */
  setNodes(nodes: string[]): void;
}

/** The cluster parts the feed reads. */
export interface FeedSource {
  bus: Pick<ClusterBus, "subscribe">;
  subjects: Subjects;
  /** The live workers now, with the run each is in (from its heartbeat; null: none). */
  workers(): Array<{ name: string; runId: string | null }>;
  /** Calls `fn` whenever a node comes up, goes down or leaves. */
  onMembershipChange(fn: () => void): void;
  /**
   * The cluster's run as this master last knew it: a sink binds only to that run while it is running, never to a
   * late interval of a run that ended (absent: the first run heard).
   */
  currentRun?(): { runId: string; running: boolean } | null;
  log?: Logger;
}

/** A node's results feed; see the file comment. */
export class ResultsFeed {
  private sinks = new Set<{ sink: ResultsSink; runId: string | null }>();
  private source: FeedSource | undefined;
  private off: (() => void) | undefined;
  private malformed = 0;
  /** The workers whose final interval of each recent run was delivered, and who waits for one. */
  private readonly finals = new Map<string, Set<string>>();
  private waiters: Array<{ runId: string; node: string; done: (ok: boolean) => void }> = [];

  constructor(private readonly clock: Clock = systemClock) {}

  /** Starts receiving (the node joined as master). */
  connect(source: FeedSource): void {
    this.disconnect();
    this.source = source;
    this.off = source.bus.subscribe(source.subjects.allResults(), (data) => this.receive(data));
    source.onMembershipChange(() => {
      if (this.source === source) this.announceNodes();
    });
    this.announceNodes();
  }

  /** Stops receiving (the node left the cluster). */
  disconnect(): void {
    this.off?.();
    this.off = undefined;
    this.source = undefined;
  }

  /**
   * Sends `sink` every interval of one run from now on: the cluster's running run, bound when its first interval
   * arrives (a sink follows one run; intervals of other runs, a stale one of the previous run too, are ignored).
   * Returns the unfollow function.
   */
  follow(sink: ResultsSink): () => void {
    const entry = { sink, runId: null as string | null };
    this.sinks.add(entry);
    if (this.source) this.announce(entry);
    return () => this.sinks.delete(entry);
  }

  /** A sink's nodes: the live workers, once its run is known those in it (idle workers send no intervals). */
  private announce(e: { sink: ResultsSink; runId: string | null }): void {
    const ws = this.source?.workers() ?? [];
    e.sink.setNodes(ws.filter((w) => e.runId === null || w.runId === e.runId).map((w) => w.name));
  }

  private announceNodes(): void {
    for (const e of this.sinks) this.announce(e);
  }

  private receive(data: string): void {
    const r = decode<ResultsMsg>(data, ["results"]);
    const bad = !r.ok ? r.reason : r.msg.interval.node !== r.msg.from ? "interval of another node than its sender" : "";
    if (!r.ok || bad) {
      if (this.malformed++ < 10) this.source?.log?.warn({ msg: "results_interval_rejected", err: bad });
      return;
    }
    const { runId, interval: i, final } = r.msg;
    const cur = this.source?.currentRun ? this.source.currentRun() : { runId, running: true };
    const bindable = cur !== null && cur.running && cur.runId === runId;
    for (const e of this.sinks) {
      if (e.runId === null && bindable) {
        e.runId = runId;
        this.announce(e);
      }
      if (e.runId === runId) e.sink.addInterval(i);
    }
    if (final) this.delivered(runId, i.node);
  }

  /** Notes the final interval of `node` in run `runId` as delivered to every sink, and wakes who waits for it. */
  private delivered(runId: string, node: string): void {
    let s = this.finals.get(runId);
    if (!s) {
      this.finals.set(runId, (s = new Set()));
      if (this.finals.size > FINAL_RUNS) this.finals.delete(this.finals.keys().next().value as string);
    }
    s.add(node);
    const ready = this.waiters.filter((w) => w.runId === runId && w.node === node);
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.done(true);
  }

  /**
   * Resolves true once the final interval of `node` in run `runId` has been delivered to the sinks (at once if it
   * was), false when `timeoutMs` passes first (the worker died before sending it, or it was lost).
   */
  whenFinal(runId: string, node: string, timeoutMs: number): Promise<boolean> {
    if (this.finals.get(runId)?.has(node)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const w = {
        runId,
        node,
        done: (ok: boolean) => {
          this.clock.clearTimeout(timer);
          resolve(ok);
        },
      };
      const timer = this.clock.setTimeout(
        () => {
          this.waiters = this.waiters.filter((x) => x !== w);
          resolve(false);
        },
        timeoutMs,
        { unref: true },
      );
      this.waiters.push(w);
    });
  }
}

const feeds = new WeakMap<Telemetry, ResultsFeed>();

/** The results feed of the node that owns `telemetry` (created on first use). */
export function resultsFeed(telemetry: Telemetry): ResultsFeed {
  let f = feeds.get(telemetry);
  if (!f) {
    f = new ResultsFeed();
    feeds.set(telemetry, f);
  }
  return f;
}
