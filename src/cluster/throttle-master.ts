/**
 * The master side of cluster-wide throttles: splits every rate over the workers in a run (equally: IDs are dealt
 * round-robin, so each holds the same share of the users), publishes the split when it changes, when a node joins, leaves or dies,
 * and once a second anyway (a late joiner learns it), and passes throttle ops to the workers with per-node results.
 * Nothing travels per throttled call.
 */
import { errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import type { ClusterBus } from "./bus.js";
import type { Member, Membership } from "./membership.js";
import { decode, encode, type Reply } from "./protocol.js";
import type { Subjects } from "./subjects.js";

/** How often the split is recomputed (published only on change, or after REPUBLISH_MS). */
const TICK_MS = 200;
const REPUBLISH_MS = 1000;
/** A share moving by less than this is not worth a new split. */
const DRIFT = 0.02;

/** One node's answer to a throttle op. */
export type ThrottleNodeResult = { ok: true; result: Record<string, unknown> } | { ok: false; error: string };

/** Splits throttle rates over the workers and forwards ops. */
export class ThrottleMaster {
  private seq = 0;
  private last: Record<string, number> = {};
  private lastGroups: Record<string, Record<string, number>> = {};
  /**
   * Group rates (Galileo's live load per group): per throttle, the group each node was put in by an op that named
   * nodes or labels. A group's rate is its own total, split over its live members; nodes never named form the
   * throttle's default group, which keeps the cluster-wide rate.
   */
  private readonly groups = new Map<string, Map<string, number>>();
  private nextGroup = 1;
  private lastAt = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Membership callbacks cannot be removed: after stop() they must not publish on a bus that is closing. */
  private stopped = false;

  constructor(
    private readonly d: {
      bus: ClusterBus;
      subjects: Subjects;
      membership: Membership;
      nodeName: string;
      log: Logger;
      timeoutMs: number;
    },
  ) {}

  start(): this {
    this.timer = setInterval(() => this.tick(false), TICK_MS);
    this.timer.unref();
    const now = () => this.tick(true);
    this.d.membership.onDown(now);
    this.d.membership.onUp(now);
    this.d.membership.onLeft(now);
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** Workers that take part in a run (their heartbeat names one). */
  private participants(): Member[] {
    return this.d.membership.live().filter((m) => m.role === "worker" && m.runId !== null && !m.leaving);
  }

  /**
   * Each worker's fraction of every rate: equal, as IDs are dealt round-robin so every worker of the run holds the
   * same share of the users (weighting by heartbeat user counts made shares swing while users started).
   */
  split(): Record<string, number> {
    const ws = this.participants();
    const out: Record<string, number> = {};
    for (const w of ws) out[w.from] = 1 / ws.length;
    return out;
  }

  /** Per grouped throttle, each participant's fraction of the rate its group was given. */
  groupSplit(): Record<string, Record<string, number>> {
    const live = this.participants().map((w) => w.from);
    const out: Record<string, Record<string, number>> = {};
    for (const [throttle, assigned] of this.groups) {
      const size = new Map<number, number>();
      for (const n of live) size.set(assigned.get(n) ?? 0, (size.get(assigned.get(n) ?? 0) ?? 0) + 1);
      out[throttle] = Object.fromEntries(live.map((n) => [n, 1 / size.get(assigned.get(n) ?? 0)!]));
    }
    return out;
  }

  private tick(force: boolean): void {
    if (this.stopped) return;
    const next = this.split();
    const nextGroups = this.groupSplit();
    const names = new Set([...Object.keys(next), ...Object.keys(this.last)]);
    const moved =
      JSON.stringify(nextGroups) !== JSON.stringify(this.lastGroups) ||
      [...names].some(
        (n) =>
          Math.abs((next[n] ?? 0) - (this.last[n] ?? 0)) > DRIFT ||
          (next[n] === undefined) !== (this.last[n] === undefined),
      );
    if (!force && !moved && Date.now() - this.lastAt < REPUBLISH_MS) return;
    // small drifts are left out so shares do not flap as users start; a node's arrival or loss always goes out
    if (moved || force) {
      this.last = next;
      this.lastGroups = nextGroups;
    }
    this.lastAt = Date.now();
    this.d.bus.publish(
      this.d.subjects.throttleSplit(),
      encode({
        v: 1,
        type: "throttle_split",
        from: this.d.nodeName,
        seq: ++this.seq,
        fractions: this.last,
        groups: this.lastGroups,
      }),
    );
    if (moved) this.d.log.info({ msg: "throttle_split", fractions: this.last });
  }

  /** Sends a throttle op to the run's workers (or the named ones); every node gets an entry. */
  async op(op: Record<string, unknown>, nodes?: string[]): Promise<Record<string, ThrottleNodeResult>> {
    const targets = nodes ?? this.participants().map((w) => w.from);
    const name = typeof op.name === "string" ? op.name : undefined;
    if (name && op.op === "stop" && !nodes) this.groups.delete(name);
    else if (name && nodes && ["start", "change_rate", "change_rate_gradually"].includes(String(op.op))) {
      // the named nodes become one group whose rate is the one asked, whatever group they were in
      const g = this.nextGroup++;
      const assigned = this.groups.get(name) ?? new Map<string, number>();
      for (const n of nodes) assigned.set(n, g);
      this.groups.set(name, assigned);
      this.tick(true); // the group's split goes out before the new rate is applied
    }
    const out: Record<string, ThrottleNodeResult> = {};
    await Promise.all(
      targets.map(async (node) => {
        try {
          const raw = await this.d.bus.request(
            this.d.subjects.throttleCommand(node),
            encode({ v: 1, type: "throttle", from: this.d.nodeName, op }),
            this.d.timeoutMs,
          );
          const r = decode<Reply>(raw, ["reply"]);
          if (!r.ok) out[node] = { ok: false, error: `malformed reply: ${r.reason}` };
          else if (r.msg.ok) out[node] = { ok: true, result: (r.msg.result ?? {}) as Record<string, unknown> };
          else
            out[node] = {
              ok: false,
              error: `${r.msg.error.message}${r.msg.error.hint ? ` (hint: ${r.msg.error.hint})` : ""}`,
            };
        } catch (e) {
          out[node] = { ok: false, error: errorMessage(e) };
        }
      }),
    );
    return out;
  }
}
