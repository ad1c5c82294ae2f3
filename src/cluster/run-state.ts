/** The cluster's run as stored in the JetStream key-value bucket: what must outlive any one process. */
import { ClusterError, errorMessage } from "../errors.js";
import type { RangePlan } from "../users/schedule.js";
import type { KvStore } from "./bus.js";
import type { Progression } from "./id-sets.js";
import { checks, type Check } from "./protocol.js";

/** A worker's user counts as its results intervals last reported them (users.* counters and the running gauge). */
export interface LastCounts {
  started: number;
  finished: number;
  crashed: number;
  removed: number;
  running: number;
  /** When the interval that reported them ended (epoch ms). */
  at_ms: number;
}

/**
 * One worker's share: the plans it accepted; `lost` once it died and its unfinished users were re-dealt (`redealtTo`:
 * how many to each worker; `last`: its user counts as last reported); `left` once it left normally (it stopped its
 * users itself: nothing to re-deal).
 */
export interface WorkerShare {
  plans: RangePlan[];
  lost?: boolean;
  left?: boolean;
  redealtTo?: Record<string, number>;
  last?: LastCounts | null;
}

/** The run record. Only its master writes it, with compare-and-set on the revision. */
export interface RunState {
  v: 1;
  runId: string;
  master: string;
  state: "running" | "finished";
  scenario: string;
  settings: Record<string, unknown>;
  from: number;
  lastId: number;
  interarrivalMs: number;
  /** When the last user dealt so far is due to start (epoch ms); `add` continues after it. */
  nextAtMs: number;
  workers: Record<string, WorkerShare>;
  /** IDs removed cluster-wide, as the progressions each node removed: never re-dealt. */
  removed: Progression[];
  comment?: string;
  /** Uploaded scenario version (content hash) the run uses; every node, one joining later too, loads it. */
  version?: string;
  startedAt: string;
}

/** Reads and writes the run record. */
export class RunStore {
  /** The run this store last read or wrote, and whether it was running then (null: none yet). */
  lastSeen: { runId: string; running: boolean } | null = null;

  constructor(
    private readonly kv: KvStore,
    private readonly key: string,
  ) {}

  /** The current record and its revision, or null when the cluster never ran anything. */
  async read(): Promise<{ run: RunState; revision: number } | null> {
    const e = await this.kv.get(this.key);
    if (!e) return null;
    let v: unknown;
    try {
      v = JSON.parse(e.value);
    } catch (err) {
      throw new ClusterError(
        "CLUSTER_PROTOCOL",
        `the run record in the bucket is not JSON: ${errorMessage(err)}`,
        "stop every node and delete the bucket's 'run' key",
      );
    }
    const bad = checkRunState(v);
    if (bad)
      throw new ClusterError(
        "CLUSTER_PROTOCOL",
        `the run record in the bucket is malformed: ${bad}`,
        "a node of another amoc version may share this cluster_name; stop every node and delete the bucket's 'run' key",
      );
    this.seen(v as RunState);
    return { run: v as RunState, revision: e.revision };
  }

  /** Writes the record if nobody else changed it since `revision` (null: only if there is none); returns the new revision. */
  async write(run: RunState, revision: number | null): Promise<number> {
    try {
      const r =
        revision === null
          ? await this.kv.create(this.key, JSON.stringify(run))
          : await this.kv.update(this.key, JSON.stringify(run), revision);
      this.seen(run);
      return r;
    } catch (e) {
      throw new ClusterError(
        "CLUSTER_BUSY",
        `another node changed the cluster's run at the same time (${errorMessage(e)})`,
        "check status() and retry",
        { cause: e },
      );
    }
  }

  private seen(run: RunState): void {
    this.lastSeen = { runId: run.runId, running: run.state === "running" };
  }
}

const { str, int, num, obj, optional, nullable, arrayOf, shape, recordOf, count, progression, plan, bool } = checks;
const share = shape({
  plans: arrayOf(plan, 1_000_000),
  lost: optional(bool),
  left: optional(bool),
  redealtTo: optional(recordOf(count, "counts")),
  last: optional(
    nullable(shape({ started: count, finished: count, crashed: count, removed: count, running: count, at_ms: num })),
  ),
});
const SHAPE = shape({
  v: (x) => (x === 1 ? undefined : "must be 1"),
  runId: str,
  master: str,
  state: (x) => (x === "running" || x === "finished" ? undefined : "must be running or finished"),
  scenario: str,
  settings: obj,
  from: int,
  lastId: int,
  interarrivalMs: num,
  nextAtMs: num,
  workers: (x) =>
    obj(x) ??
    Object.entries(x as Record<string, unknown>)
      .map(([k, w]) => (share(w) ? `${k} ${share(w)}` : undefined))
      .find(Boolean),
  removed: arrayOf(progression, 1_000_000),
  comment: optional((x) => (typeof x === "string" ? undefined : "must be a string")),
  startedAt: str,
  version: optional(str),
});

/** Why a value read from the bucket is not a RunState (undefined: it is one). */
const checkRunState: Check = SHAPE;
