/**
 * The dashboard's live feed: samples the Node API's `status()` and `nodes()` once a second and follows its `watch`
 * stream of intervals (only while a page listens), turns them into one compact frame (nodes with health, totals,
 * rates, timing percentiles of the last interval, run events; the shapes are in wire.ts) and hands each frame to
 * every listener. The last N minutes of frames are kept so a page that opens mid-run draws
 * its charts at once. One message per second whatever the number of users.
 */
import type { ErrorSummary } from "../../users/crash-tally.js";
import type { NodeApi, PerNode, WatchEvent } from "../../node/node-api.js";
import type { ProcessHealth } from "../../metrics/process-sampler.js";
import { IntervalWindow } from "./interval-window.js";
import { diffEvents } from "./feed-events.js";
import type { FeedEvent, Frame, NodeFrame } from "./wire.js";

export type { FeedEvent, Frame, NodeFrame } from "./wire.js";

/** What the feed needs. */
export interface LiveFeedOptions {
  /** `watch` brings the run's per-interval results (src/results) as the node's run service receives them. */
  api: Pick<NodeApi, "status" | "nodes" | "mode" | "nodeName" | "watch">;
  /** Health of this process (the serving node); a ProcessHealth must fit the wire's NodeHealth. */
  health?: () => ProcessHealth;
  periodMs?: number;
  /** How much history a new listener gets. */
  windowMs?: number;
  now?: () => number;
}

type Listener = (f: Frame) => void;

const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);

/** See the file comment. */
export class LiveFeed {
  private readonly frames: Frame[] = [];
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;
  private prev: Frame | undefined;
  private readonly window: IntervalWindow;
  private unwatch: (() => void) | undefined;
  private runKey: string | undefined;
  /** Events the watch stream brought since the last frame that the status cannot show (a threshold breach). */
  private watched: FeedEvent[] = [];
  /** The server under test's last sampling in this run (the watch stream's `sut` events). */
  private server: Record<string, number> | undefined;
  private liveWorkers = 0;
  private readonly known = new Map<string, { role: string; labels: Record<string, string> }>();
  private readonly periodMs: number;
  private readonly windowMs: number;
  private readonly now: () => number;

  constructor(private readonly o: LiveFeedOptions) {
    this.periodMs = o.periodMs ?? 1000;
    this.windowMs = o.windowMs ?? 15 * 60_000;
    this.now = o.now ?? Date.now;
    this.window = new IntervalWindow(() => this.liveWorkers);
  }

  /** Frames kept (the last `windowMs`). */
  history(): Frame[] {
    return [...this.frames];
  }

  /** Adds a listener (sampling starts with the first); returns how to remove it. */
  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    if (!this.timer) {
      this.unwatch = this.o.api.watch((e) => this.onWatch(e));
      this.timer = setInterval(() => void this.tick(), this.periodMs);
      this.timer.unref();
      void this.tick();
    }
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0) this.close();
    };
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.unwatch?.();
    this.unwatch = undefined;
    this.runKey = undefined;
  }

  /**
   * Intervals go to the window. Run events are read from the status (diffEvents), which every mode has; a threshold
   * breach is the one the status cannot show, so it comes from the watch stream.
   */
  private onWatch(e: WatchEvent): void {
    if (e.type === "interval") this.window.add(e.interval);
    else if (e.type === "sut") this.server = e.sample.values;
    else if (e.type === "event" && e.event.kind === "threshold_breach") {
      const message = e.event.data.message;
      this.watched.push({
        t: e.event.t,
        kind: "breach",
        text: typeof message === "string" ? message : "threshold breached",
      });
    }
  }

  /** A new run drops the previous run's intervals (they would show as this run's first seconds). */
  private followRun(run: Frame["run"]): void {
    const key = `${run?.run_id ?? ""}|${run?.scenario ?? ""}`;
    if (key === this.runKey) return;
    if (this.runKey !== undefined) {
      this.window.clear();
      this.server = undefined;
    }
    this.runKey = key;
  }

  /** Takes one sample and sends it (a sample still in progress is not overlapped). */
  async tick(): Promise<Frame | undefined> {
    if (this.sampling) return undefined;
    this.sampling = true;
    try {
      const f = await this.sample();
      this.frames.push(f);
      const oldest = f.t - this.windowMs;
      while (this.frames.length && (this.frames[0] as Frame).t < oldest) this.frames.shift();
      for (const l of this.listeners) l(f);
      return f;
    } finally {
      this.sampling = false;
    }
  }

  private async sample(): Promise<Frame> {
    const t = this.now();
    let status: Awaited<ReturnType<NodeApi["status"]>>;
    let list: Awaited<ReturnType<NodeApi["nodes"]>>;
    try {
      [status, list] = await Promise.all([this.o.api.status(), this.o.api.nodes()]);
    } catch (e) {
      const f = this.carry(t);
      f.error = e instanceof Error ? e.message : String(e);
      return f;
    }
    const nodes = new Map<string, NodeFrame>();
    for (const n of list) {
      this.known.set(n.name, { role: n.role, labels: n.labels });
      nodes.set(n.name, {
        name: n.name,
        role: n.role,
        state: n.state,
        labels: n.labels,
        running: n.running,
        started: 0,
        crashed: 0,
        health: null,
      });
    }
    const reasons: Record<string, number> = {};
    let lastId = num((status.run as { last_id?: unknown } | null)?.last_id);
    for (const [name, r] of Object.entries(status.nodes as Record<string, PerNode<Record<string, unknown>>>)) {
      const k = this.known.get(name) ?? { role: "worker", labels: {} };
      const row = nodes.get(name) ?? downRow(name, k);
      if (r.ok) {
        const u = (r.result.users ?? {}) as Record<string, number>;
        row.state = typeof r.result.state === "string" ? r.result.state : row.state;
        row.running = num(u.running);
        row.started = num(u.started);
        row.crashed = num(u.crashed);
        row.health = (r.result.health as ProcessHealth | undefined) ?? null;
        lastId = Math.max(lastId, num(r.result.last_id));
        for (const e of (r.result.errors ?? []) as ErrorSummary[])
          reasons[e.reason] = (reasons[e.reason] ?? 0) + num(e.count);
      } else {
        row.state = /down|no heartbeat/.test(r.error) ? "down" : "error";
        row.error = r.error;
      }
      nodes.set(name, row);
    }
    // a node seen before and gone from the live list missed its heartbeats: it stays listed, red
    for (const [name, k] of this.known)
      if (!nodes.has(name)) nodes.set(name, { ...downRow(name, k), error: "no heartbeat" });
    // one sample of this process per frame, shown in every row this process answers for
    const mine = this.o.health?.();
    if (mine)
      for (const row of nodes.values()) if (row.health && row.health.process === mine.process) row.health = mine;
    const self = nodes.get(this.o.api.nodeName);
    if (self && mine) self.health = mine;
    else if (mine && this.o.api.mode === "dist") {
      // the serving master runs no users; its health is shown as its own row
      nodes.set(this.o.api.nodeName, {
        name: this.o.api.nodeName,
        role: "master",
        state: "up",
        labels: {},
        running: 0,
        started: 0,
        crashed: 0,
        health: mine,
      });
    }
    this.liveWorkers = [...nodes.values()].filter(
      (n) => n.role !== "master" && n.state !== "down" && n.state !== "left",
    ).length;
    const users = status.users as unknown as Record<string, number>;
    const run = status.run
      ? {
          run_id: status.run.run_id,
          state: status.run.state,
          scenario: status.run.scenario,
          version: status.run.version,
          settings: status.run.settings,
          last_id: lastId,
        }
      : null;
    this.followRun(run);
    const iv = this.window.latest(t);
    const fresh = iv && t - iv.t < 5000 ? iv : undefined;
    const f: Frame = {
      t,
      mode: status.mode,
      run,
      users: {
        running: num(users.running),
        started: num(users.started),
        crashed: num(users.crashed),
        removed: num(users.removed),
        pending: num(users.pending),
      },
      nodes: [...nodes.values()].sort((a, b) => a.name.localeCompare(b.name)),
      rates: { arrivals: 0, crashes: 0, messages: 0 },
      // timings and message rates come from the run's merged intervals only (the one pipeline), never a second sum
      series: fresh ? "intervals" : "none",
      timings: fresh
        ? { connection: fresh.timings["xmpp.connection"] ?? null, ttd: fresh.timings["xmpp.message_ttd"] ?? null }
        : { connection: null, ttd: null },
      metrics: fresh ? { timings: fresh.timings, rates: fresh.rates } : { timings: {}, rates: {} },
      ...(this.server ? { server: this.server } : {}),
      crash_reasons: reasons,
      events: [],
    };
    const p = this.prev;
    if (p && !p.error) {
      const s = Math.max(0.001, (t - p.t) / 1000);
      const sameRun = p.run?.run_id === f.run?.run_id && p.run?.scenario === f.run?.scenario;
      const d = (a: number, b: number) => (sameRun ? Math.max(0, a - b) / s : 0);
      f.rates = {
        arrivals: round2(d(f.users.started, p.users.started)),
        crashes: round2(d(f.users.crashed, p.users.crashed)),
        messages: fresh ? (fresh.rates["xmpp.messages_sent"] ?? 0) : 0,
      };
      f.events = diffEvents(p, f);
    }
    f.events.push(...this.watched.splice(0));
    this.prev = f;
    return f;
  }

  /** The previous frame again (status failed): same data, the error shown. */
  private carry(t: number): Frame {
    const p = this.prev;
    return p
      ? { ...p, t, events: [], rates: { arrivals: 0, crashes: 0, messages: 0 } }
      : {
          t,
          mode: this.o.api.mode,
          run: null,
          users: { running: 0, started: 0, crashed: 0, removed: 0, pending: 0 },
          nodes: [],
          rates: { arrivals: 0, crashes: 0, messages: 0 },
          series: "none",
          timings: { connection: null, ttd: null },
          metrics: { timings: {}, rates: {} },
          crash_reasons: {},
          events: [],
        };
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/** A node's row before anything is known of it this frame: down, no users, no health. */
function downRow(name: string, k: { role: string; labels: Record<string, string> }): NodeFrame {
  return { name, role: k.role, state: "down", labels: k.labels, running: 0, started: 0, crashed: 0, health: null };
}
