/** Cluster membership: publishes this node's heartbeat every second, tracks the others, and reports nodes up and down. */
import type { Logger } from "../log.js";
import type { ClusterBus } from "./bus.js";
import { systemClock, type Clock, type TimerHandle } from "../clock.js";
import { RateLimitedLog } from "../metrics/rate-limited-log.js";
import { decode, encode, type Heartbeat } from "./protocol.js";
import type { Subjects } from "./subjects.js";

/** What is known of a live node. */
export interface Member extends Omit<Heartbeat, "v" | "type"> {
  lastSeenMs: number;
}

type Listener = (name: string, m: Member) => void;

/** Timings; a node missing `missedBeats` heartbeats is down. */
export interface MembershipOptions {
  intervalMs?: number;
  missedBeats?: number;
  clock?: Clock;
}

/** A beat under a live node's name from another process: `boot` is the one believed, `other` the newcomer's. */
type DuplicateListener = (name: string, boot: string, other: string) => void;

/** Tracks the live nodes of the cluster from their heartbeats. */
export class Membership {
  private readonly members = new Map<string, Member>();
  private readonly upListeners: Listener[] = [];
  private readonly downListeners: Listener[] = [];
  private readonly leftListeners: Listener[] = [];
  private readonly duplicateListeners: DuplicateListener[] = [];
  private readonly rareLog: RateLimitedLog;
  private readonly clock: Clock;
  private timers: TimerHandle[] = [];
  private unsubscribe: (() => void) | undefined;
  private rejectedLogged = 0;
  private startedAtMs = 0;
  private beating = false;
  private lastSweepMs = 0;
  /** Set when another live process beats under this node's name: this node must not join. */
  nameClash: string | undefined;
  readonly intervalMs: number;
  private readonly deadAfterMs: number;

  constructor(
    private readonly bus: ClusterBus,
    private readonly subjects: Subjects,
    private readonly self: () => Heartbeat,
    private readonly log: Logger,
    o: MembershipOptions = {},
  ) {
    this.intervalMs = o.intervalMs ?? 1000;
    this.deadAfterMs = this.intervalMs * (o.missedBeats ?? 3);
    this.clock = o.clock ?? systemClock;
    this.rareLog = new RateLimitedLog(log, "duplicate_node_name", 60_000, this.clock);
  }

  /** Another process beats under a live node's name (it is ignored until the first has been silent a down-window). */
  onDuplicate(fn: DuplicateListener): void {
    this.duplicateListeners.push(fn);
  }

  onUp(fn: Listener): void {
    this.upListeners.push(fn);
  }
  onDown(fn: Listener): void {
    this.downListeners.push(fn);
  }
  /** A node said it leaves (normally): it is gone, but not "down". */
  onLeft(fn: Listener): void {
    this.leftListeners.push(fn);
  }

  /** Starts listening to the others' heartbeats (this node is not announced yet). */
  start(): void {
    this.startedAtMs = this.clock.now();
    this.unsubscribe = this.bus.subscribe(this.subjects.heartbeat(), (data) => this.onBeat(data));
    this.every(this.sweepMs, () => this.sweep());
  }

  /** Announces this node: a beat now, then one every interval. Call once the node serves its commands. */
  startBeating(): void {
    this.beating = true;
    this.beat();
    this.every(this.intervalMs, () => this.beat());
  }

  private every(ms: number, fn: () => void): void {
    this.timers.push(this.clock.setInterval(fn, ms, { unref: true }));
  }

  /** Publishes this node's heartbeat now (also used to announce a state change without waiting). */
  beat(): void {
    try {
      this.bus.publish(this.subjects.heartbeat(), encode(this.self()));
    } catch (e) {
      this.log.debug({ msg: "heartbeat_failed", err: (e as Error).message });
    }
  }

  /** Says goodbye: one last beat flagged `leaving`, so the others log this node as left, not down. */
  leave(): void {
    try {
      this.bus.publish(this.subjects.heartbeat(), encode({ ...this.self(), leaving: true }));
    } catch (e) {
      this.log.debug({ msg: "heartbeat_failed", err: (e as Error).message });
    }
  }

  private onBeat(data: string): void {
    const r = decode<Heartbeat>(data, ["heartbeat"]);
    if (!r.ok) {
      // a flood of bad beats must not flood the log
      if (this.rejectedLogged++ < 20)
        this.log.warn({ msg: "heartbeat_rejected", from: r.from ?? "unknown", reason: r.reason });
      return;
    }
    const { v: _v, type: _t, ...hb } = r.msg;
    const me = this.self();
    if (hb.from === me.from && hb.boot !== me.boot) {
      // two processes under one name would look like one node restarting every second
      this.nameClash ??= `another node already runs as '${hb.from}' (role ${hb.role}, state ${hb.state})`;
      // after joining, it is a namesake that joined before hearing this one: commands name this process's boot
      if (this.beating)
        this.rareLog.warnKind(`self:${hb.boot}`, {
          msg: "duplicate_node_name",
          node: hb.from,
          boot: me.boot,
          other_boot: hb.boot,
          affects: "the other process serves no command addressed to this one; give each node its own name",
        });
      return;
    }
    const now = this.clock.now();
    const prev = this.members.get(hb.from);
    if (prev && prev.boot !== hb.boot && now - prev.lastSeenMs <= this.deadAfterMs) {
      // one beat with another boot ID is a namesake or a forgery, not a restart: a restart is believed only once the
      // old process has been silent for the down window (so a live worker's users are never re-dealt on one beat)
      if (!hb.leaving) {
        this.rareLog.warnKind(`dup:${hb.from}:${hb.boot}`, {
          msg: "duplicate_node_name",
          node: hb.from,
          boot: prev.boot,
          other_boot: hb.boot,
          affects: `beats of ${hb.from} with boot ${hb.boot} are ignored while ${prev.boot} beats; commands go to ${prev.boot}`,
        });
        for (const f of this.duplicateListeners) f(hb.from, prev.boot, hb.boot);
      }
      return;
    }
    if (hb.leaving) {
      if (prev && prev.boot !== hb.boot) return; // a stale goodbye from an earlier process under this name
      if (this.members.delete(hb.from)) {
        this.log.info({ msg: "node_left", node: hb.from, role: hb.role });
        for (const f of this.leftListeners) f(hb.from, { ...hb, lastSeenMs: now });
      }
      return;
    }
    const m: Member = { ...hb, lastSeenMs: now };
    this.members.set(hb.from, m);
    if (prev && prev.boot !== hb.boot) {
      // restarted under the same name after the old process went silent (before the sweep saw it): its old users are gone
      for (const f of this.downListeners) f(hb.from, prev);
      for (const f of this.upListeners) f(hb.from, m);
    } else if (!prev) for (const f of this.upListeners) f(hb.from, m);
  }

  private get sweepMs(): number {
    return Math.max(50, this.intervalMs / 4);
  }

  private sweep(): void {
    const now = this.clock.now();
    // this node's own event loop stalled: the others' beats are still queued unread, so nobody is judged on them
    const stalled = this.lastSweepMs > 0 && now - this.lastSweepMs > this.sweepMs + this.intervalMs;
    this.lastSweepMs = now;
    const me = this.self().from;
    for (const [name, m] of this.members) {
      if (name === me) continue;
      if (stalled) {
        m.lastSeenMs = Math.max(m.lastSeenMs, now - this.intervalMs);
        continue;
      }
      if (now - m.lastSeenMs > this.deadAfterMs) {
        this.members.delete(name);
        this.log.warn({ msg: "node_down", node: name, last_seen_ms_ago: now - m.lastSeenMs });
        for (const f of this.downListeners) f(name, m);
      }
    }
  }

  /** Resolves once this node has listened for one heartbeat interval: every live node has been heard once. */
  async warmedUp(): Promise<void> {
    const wait = this.startedAtMs + this.intervalMs + 150 - this.clock.now();
    if (wait > 0) await new Promise<void>((r) => this.clock.setTimeout(r, wait));
  }

  /**
   * Resolves once this node has listened for a whole down-window: before that, a node not yet heard from may
   * well be alive, so nobody may be judged dead (a fresh console must not take over a live master's run).
   */
  async settled(): Promise<void> {
    const wait = this.startedAtMs + this.deadAfterMs + 100 - this.clock.now();
    if (wait > 0) await new Promise<void>((r) => this.clock.setTimeout(r, wait));
  }

  /** Live nodes, sorted by name. */
  live(): Member[] {
    return [...this.members.values()].sort((a, b) => a.from.localeCompare(b.from));
  }

  isAlive(name: string): boolean {
    return this.members.has(name);
  }

  get(name: string): Member | undefined {
    return this.members.get(name);
  }

  stop(): void {
    for (const t of this.timers) this.clock.clearInterval(t);
    this.timers = [];
    this.unsubscribe?.();
  }
}
