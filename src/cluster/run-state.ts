/** The cluster's run as stored in the JetStream key-value bucket: what must outlive any one process. */
import { ClusterError, errorMessage } from "../errors.js";
import type { RangePlan } from "../controller/controller.js";
import type { Intervals } from "./id-sets.js";
import type { KvStore } from "./nats-bus.js";

/** One worker's share: the plans dealt to it; `lost` once it died and its users were re-dealt. */
export interface WorkerShare {
  plans: RangePlan[];
  lost?: boolean;
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
  /** IDs removed cluster-wide: never re-dealt. */
  removed: Intervals;
  comment?: string;
  startedAt: string;
}

/** Reads and writes the run record. */
export class RunStore {
  constructor(
    private readonly kv: KvStore,
    private readonly key: string,
  ) {}

  /** The current record and its revision, or null when the cluster never ran anything. */
  async read(): Promise<{ run: RunState; revision: number } | null> {
    const e = await this.kv.get(this.key);
    if (!e) return null;
    try {
      return { run: JSON.parse(e.value) as RunState, revision: e.revision };
    } catch (err) {
      throw new ClusterError("CLUSTER_PROTOCOL", `the run record in the bucket is not JSON: ${errorMessage(err)}`, "stop every node and delete the bucket's 'run' key");
    }
  }

  /** Writes the record if nobody else changed it since `revision` (null: only if there is none); returns the new revision. */
  async write(run: RunState, revision: number | null): Promise<number> {
    try {
      return revision === null ? await this.kv.create(this.key, JSON.stringify(run)) : await this.kv.update(this.key, JSON.stringify(run), revision);
    } catch (e) {
      throw new ClusterError("CLUSTER_BUSY", `another node changed the cluster's run at the same time (${errorMessage(e)})`, "check status() and retry", { cause: e });
    }
  }
}
