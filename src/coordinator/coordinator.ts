/**
 * amoc_coordinator, cluster-wide: users join named groups and each gets the group's members (IDs and the value each
 * gave) once the group is full (N, pairs) or its timeout passes (a partial group; "all" groups only release then).
 * The hub holds the groups (on a local node, or on the master for the cluster); a client resolves its users'
 * waits. A user removed while waiting leaves its group: the others never receive it.
 */
import { systemClock, type Clock, type TimerHandle } from "../clock.js";
import { AmocError, UsageError } from "../errors.js";
import type { CoordinateOptions, GroupMember } from "../scenario/throttle-api.js";

export type { CoordinateOptions, GroupMember } from "../scenario/throttle-api.js";

const DEFAULT_TIMEOUT_MS = 30_000;

/** A member with the node it lives on (the hub tells each node which of its users to release). */
export interface HubMember extends GroupMember {
  node: string;
}

/** Checked group options. */
export interface GroupSpec {
  groupSize: number | "all";
  timeoutMs: number;
}

/** Checks a user's options (a usage error names what is wrong). */
export function groupSpec(o: CoordinateOptions = {}): GroupSpec {
  const groupSize = o.groupSize ?? 2;
  const timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (groupSize !== "all" && !(Number.isInteger(groupSize) && groupSize >= 1))
    throw new UsageError(
      `groupSize must be an integer >= 1 or "all", got ${JSON.stringify(groupSize)}`,
      "e.g. ctx.coordinate('pairs', {groupSize: 2, timeoutMs: 10000})",
    );
  if (!(typeof timeoutMs === "number" && timeoutMs > 0 && Number.isFinite(timeoutMs)))
    throw new UsageError(`timeoutMs must be ms > 0, got ${JSON.stringify(timeoutMs)}`, "e.g. {timeoutMs: 30000}");
  return { groupSize, timeoutMs };
}

interface Group {
  spec: GroupSpec;
  members: HubMember[];
  timer: TimerHandle | undefined;
}

/** Holds the forming groups; calls `release` with each group (full, or partial on timeout). */
export class CoordinatorHub {
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly release: (name: string, members: HubMember[], reason: "full" | "timeout") => void,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Adds a member; the first join of a name fixes its group options. */
  join(name: string, spec: GroupSpec, m: HubMember): void {
    let g = this.groups.get(name);
    if (!g) this.groups.set(name, (g = { spec, members: [], timer: undefined }));
    g.members.push(m);
    if (g.spec.groupSize !== "all" && g.members.length >= g.spec.groupSize) return this.fire(name, g, "full");
    // as amoc: the timeout restarts on every join
    this.clock.clearTimeout(g.timer);
    g.timer = this.clock.setTimeout(() => this.fire(name, g, "timeout"), g.spec.timeoutMs, { unref: true });
  }

  /** Takes a member out of its forming group (a removed user); true when it was waiting. */
  leave(name: string, id: number): boolean {
    const g = this.groups.get(name);
    if (!g) return false;
    const i = g.members.findIndex((m) => m.id === id);
    if (i < 0) return false;
    g.members.splice(i, 1);
    if (g.members.length === 0 && g.timer) {
      this.clock.clearTimeout(g.timer);
      g.timer = undefined;
    }
    return true;
  }

  /** Takes every member of a node out of the forming groups (the node died or left). */
  leaveNode(node: string): number {
    let n = 0;
    for (const g of this.groups.values()) {
      const before = g.members.length;
      g.members = g.members.filter((m) => m.node !== node);
      n += before - g.members.length;
    }
    return n;
  }

  private fire(name: string, g: Group, reason: "full" | "timeout"): void {
    this.clock.clearTimeout(g.timer);
    g.timer = undefined;
    const members = g.members;
    g.members = [];
    if (members.length) this.release(name, members, reason);
  }

  /** Drops every forming group (end of run). */
  clear(): void {
    for (const g of this.groups.values()) this.clock.clearTimeout(g.timer);
    this.groups.clear();
  }
}

/** What a user's `ctx.coordinate` calls: joins and resolves with the group, or rejects when the user leaves. */
export interface CoordinatorClient {
  join(name: string, opts: CoordinateOptions, id: number, leave: Promise<unknown>): Promise<GroupMember[]>;
  /** Releases the users of this node in a group the hub released. */
  released(name: string, members: HubMember[]): void;
  clear(): void;
}

interface Waiter {
  resolve: (m: GroupMember[]) => void;
  reject: (e: Error) => void;
  guard?: TimerHandle;
}

/**
 * The waits of one node's users; `send` carries joins and leaves to the hub (directly on a local node, through NATS
 * in a cluster). A wait the hub never answers (a master gone) fails after twice the timeout plus 5 s.
 */
export class CoordinatorWaits implements CoordinatorClient {
  private readonly waiting = new Map<string, Waiter>();

  constructor(
    private readonly node: string,
    private readonly send: {
      join(name: string, spec: GroupSpec, m: HubMember): void;
      leave(name: string, id: number): void;
    },
    private readonly clock: Clock = systemClock,
  ) {}

  join(name: string, opts: CoordinateOptions, id: number, leave: Promise<unknown>): Promise<GroupMember[]> {
    if (typeof name !== "string" || name === "")
      return Promise.reject(
        new UsageError("a coordinator needs a name", "e.g. ctx.coordinate('pairs', {groupSize: 2})"),
      );
    let spec: GroupSpec;
    try {
      spec = groupSpec(opts);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const key = `${name}\u0000${id}`;
    if (this.waiting.has(key))
      return Promise.reject(
        new UsageError(
          `user ${id} already waits on coordinator '${name}'`,
          "await one coordinate() at a time per name",
        ),
      );
    return new Promise<GroupMember[]>((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      w.guard = this.clock.setTimeout(
        () => {
          this.waiting.delete(key);
          this.send.leave(name, id);
          reject(
            new AmocError(
              "COORDINATOR_TIMEOUT",
              `coordinator '${name}' did not answer within ${2 * spec.timeoutMs + 5000} ms`,
              "check that the master is alive (cluster) and the group can fill",
            ),
          );
        },
        2 * spec.timeoutMs + 5000,
        { unref: true },
      );
      this.waiting.set(key, w);
      leave.then(
        () => this.drop(name, id, key),
        () => this.drop(name, id, key),
      );
      this.send.join(name, spec, { id, value: opts.value ?? null, node: this.node });
    });
  }

  /** The user left (removed) while waiting: out of the group, its wait rejected. */
  private drop(name: string, id: number, key: string): void {
    const w = this.waiting.get(key);
    if (!w) return;
    this.waiting.delete(key);
    this.clock.clearTimeout(w.guard);
    this.send.leave(name, id);
    w.reject(
      new AmocError(
        "USER_ABORTED",
        `user ${id} was removed while waiting on coordinator '${name}'`,
        "nothing to do: removal ends the wait",
      ),
    );
  }

  released(name: string, members: HubMember[]): void {
    const group = members.map((m) => ({ id: m.id, value: m.value }));
    for (const m of members) {
      if (m.node !== this.node) continue;
      const key = `${name}\u0000${m.id}`;
      const w = this.waiting.get(key);
      if (!w) continue;
      this.waiting.delete(key);
      this.clock.clearTimeout(w.guard);
      w.resolve(group);
    }
  }

  clear(): void {
    for (const [key, w] of this.waiting) {
      this.clock.clearTimeout(w.guard);
      w.reject(
        new AmocError(
          "USER_ABORTED",
          `coordinator wait ${key.replace("\u0000", " of user ")} ended with the run`,
          "nothing to do",
        ),
      );
    }
    this.waiting.clear();
  }
}

/** A local node's coordinator: hub and waits in one process. */
export function localCoordinator(
  node: string,
  clock: Clock = systemClock,
): CoordinatorClient & { hub: CoordinatorHub } {
  let waits: CoordinatorWaits | undefined = undefined;
  const hub = new CoordinatorHub((name, members) => waits!.released(name, members), clock);
  waits = new CoordinatorWaits(
    node,
    { join: (n, s, m) => hub.join(n, s, m), leave: (n, id) => void hub.leave(n, id) },
    clock,
  );
  const w = waits;
  return {
    hub,
    join: (...a) => w.join(...a),
    released: (n, m) => w.released(n, m),
    clear: () => {
      hub.clear();
      w.clear();
    },
  };
}
