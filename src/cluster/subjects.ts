/** Every NATS subject and key-value name the cluster uses, built in this one place. */

/** Node names go into subjects: letters, digits, `_` and `-` only (no dots or wildcards). */
export const NODE_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

/** The subjects and buckets of one cluster (`cluster_name` prefixes them, so clusters can share a NATS). */
export class Subjects {
  constructor(readonly cluster: string) {}
  /** Heartbeats of every node (one subject: everyone listens to everyone). */
  heartbeat(): string {
    return `${this.cluster}.hb`;
  }
  /** Commands to one node (request/reply). */
  command(node: string): string {
    return `${this.cluster}.cmd.${node}`;
  }
  /** Every node's command subject, for monitoring tools. */
  allCommands(): string {
    return `${this.cluster}.cmd.*`;
  }
  /** The master's throttle split, published to every node. */
  throttleSplit(): string {
    return `${this.cluster}.throttle.split`;
  }
  /** Throttle ops for one node (request/reply). */
  throttleCommand(node: string): string {
    return `${this.cluster}.throttle.cmd.${node}`;
  }
  /** Coordinator traffic: users joining and leaving groups, to the master. */
  coordinator(): string {
    return `${this.cluster}.coord`;
  }
  /** Coordinator answers to one node: released groups. */
  coordinatorNode(node: string): string {
    return `${this.cluster}.coord.${node}`;
  }
  /** A run's time series: each worker publishes one encoded interval per `results_interval` here. */
  results(runId: string): string {
    return `${this.cluster}.results.${runId}`;
  }
  /** Every run's time series, for the master's recorder. */
  allResults(): string {
    return `${this.cluster}.results.*`;
  }
  /** The JetStream key-value bucket holding run state. */
  bucket(): string {
    return `${this.cluster}_state`;
  }
  /** KV key of the cluster's run. */
  runKey(): string {
    return "run";
  }
  /** KV key of the IDs that ended on a node during a run. */
  endedKey(runId: string, node: string): string {
    return `ended.${runId}.${node}`;
  }
  /** KV key of a node's final counts and metrics of a run, written when it leaves mid-run. */
  finalKey(runId: string, node: string): string {
    return `final.${runId}.${node}`;
  }
}
