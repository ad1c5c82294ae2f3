/**
 * What the cluster code needs from a message bus and a key-value store, apart from any adapter: NATS implements
 * them in nats-bus.ts, tests in test/helpers/fake-bus.ts.
 */

/** A key-value entry and its revision (for compare-and-set). */
export interface KvEntry {
  value: string;
  revision: number;
}

/** The key-value operations the cluster uses. `create` and `update` fail when the key's revision moved on. */
export interface KvStore {
  get(key: string): Promise<KvEntry | null>;
  create(key: string, value: string): Promise<number>;
  update(key: string, value: string, revision: number): Promise<number>;
  put(key: string, value: string): Promise<number>;
  /** Keys matching a NATS subject filter (e.g. `ended.>`). */
  keys(filter: string): Promise<string[]>;
  /** Removes a key and its history. */
  delete(key: string): Promise<void>;
}

/** A problem the bus met outside any call (a subscription error): what it affects, and how often it happened. */
export interface BusProblem {
  subject: string;
  error: string;
  count: number;
}

/** What the cluster needs from a message bus. */
export interface ClusterBus {
  publish(subject: string, data: string): void;
  /** Subscribes; `respond` is set for requests. Returns the unsubscribe function. */
  subscribe(
    subject: string,
    handler: (data: string, respond: ((data: string) => void) | undefined) => void,
  ): () => void;
  /** Request/reply; rejects with ClusterError (CLUSTER_NODE_FAILED) on timeout or when nobody listens. */
  request(subject: string, data: string, timeoutMs: number): Promise<string>;
  kv(): Promise<KvStore>;
  /** Waits until the server has processed everything sent so far (subscriptions are live). */
  flush(): Promise<void>;
  /** Subscription errors so far, one entry per subject (each was logged once, when first seen). */
  problems(): BusProblem[];
  close(): Promise<void>;
}
