/**
 * In-memory fakes of the cluster's ClusterBus and KvStore (src/cluster/bus.ts): one FakeNet is the "NATS" every
 * node's FakeBus talks through, with switches to make requests, subscriptions and bucket reads fail.
 */
import type { BusProblem, ClusterBus, KvEntry, KvStore } from "../../src/cluster/bus.js";
import { ClusterError } from "../../src/errors.js";

type Handler = (data: string, respond: ((data: string) => void) | undefined) => void;

/** A key-value bucket with revisions and compare-and-set, like a JetStream KV with history 1. */
export class FakeKv implements KvStore {
  private readonly entries = new Map<string, KvEntry>();
  private rev = 0;
  /** While set, `get` of a key it returns true for rejects (a failed bucket read). */
  failGet: ((key: string) => boolean) | undefined;
  /** How many gets rejected because of `failGet`. */
  failedGets = 0;

  async get(key: string): Promise<KvEntry | null> {
    if (this.failGet?.(key)) {
      this.failedGets++;
      throw new Error(`fake bucket: get ${key} failed`);
    }
    const e = this.entries.get(key);
    return e ? { ...e } : null;
  }

  async create(key: string, value: string): Promise<number> {
    if (this.entries.has(key)) throw new Error(`fake bucket: ${key} exists`);
    return this.set(key, value);
  }

  async update(key: string, value: string, revision: number): Promise<number> {
    const e = this.entries.get(key);
    if (!e || e.revision !== revision) throw new Error(`fake bucket: wrong last sequence for ${key}`);
    return this.set(key, value);
  }

  async put(key: string, value: string): Promise<number> {
    return this.set(key, value);
  }

  async keys(filter: string): Promise<string[]> {
    // NATS subject filters: `*` one token, `>` the rest
    const re = new RegExp(
      `^${filter
        .split(".")
        .map((t) => (t === "*" ? "[^.]+" : t === ">" ? ".+" : t.replace(/[^A-Za-z0-9_-]/g, "\\$&")))
        .join("\\.")}$`,
    );
    return [...this.entries.keys()].filter((k) => re.test(k));
  }

  async delete(key: string): Promise<void> {
    this.entries.delete(key);
  }

  /** The raw value of a key (for assertions). */
  peek(key: string): string | undefined {
    return this.entries.get(key)?.value;
  }

  private set(key: string, value: string): number {
    this.entries.set(key, { value, revision: ++this.rev });
    return this.rev;
  }
}

/** The shared medium: subjects with their subscribers, and one bucket. */
export class FakeNet {
  readonly subs = new Map<string, Set<Handler>>();
  readonly kv = new FakeKv();
  /** Every message published or requested, in order (subject, data): tests read sizes and contents from it. */
  readonly log: Array<{ subject: string; data: string }> = [];

  bus(): FakeBus {
    return new FakeBus(this);
  }

  deliver(subject: string, data: string, respond: ((d: string) => void) | undefined): number {
    this.log.push({ subject, data });
    const hs = [...this.subs].flatMap(([pattern, set]) => (matches(pattern, subject) ? [...set] : []));
    // asynchronous like a network: a handler never runs inside the sender's call
    for (const h of hs) setImmediate(() => h(data, respond));
    return hs.length;
  }
}

/** Whether a NATS subject pattern (`*` one token, `>` the rest) matches a subject. */
function matches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  if (!pattern.includes("*") && !pattern.includes(">")) return false;
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length || (p[i] !== "*" && p[i] !== s[i])) return false;
  }
  return p.length === s.length;
}

/** One node's connection to a FakeNet. */
export class FakeBus implements ClusterBus {
  private readonly mine: Array<[string, Handler]> = [];
  /** Subscription errors to report from problems(), as the NATS adapter would after a callback error. */
  readonly subscriptionErrors: BusProblem[] = [];
  closed = false;

  constructor(readonly net: FakeNet) {}

  publish(subject: string, data: string): void {
    if (this.closed) throw new Error("fake bus closed");
    this.net.deliver(subject, data, undefined);
  }

  subscribe(subject: string, handler: Handler): () => void {
    let set = this.net.subs.get(subject);
    if (!set) this.net.subs.set(subject, (set = new Set()));
    set.add(handler);
    this.mine.push([subject, handler]);
    return () => this.net.subs.get(subject)?.delete(handler);
  }

  request(subject: string, data: string, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new ClusterError("CLUSTER_NODE_FAILED", `${subject}: no reply within ${timeoutMs} ms`, "fake")),
        timeoutMs,
      );
      const n = this.net.deliver(subject, data, (d) => {
        clearTimeout(timer);
        resolve(d);
      });
      if (n === 0) {
        clearTimeout(timer);
        reject(new ClusterError("CLUSTER_NODE_FAILED", `${subject}: nobody listens`, "fake"));
      }
    });
  }

  async kv(): Promise<KvStore> {
    return this.net.kv;
  }

  async flush(): Promise<void> {}

  problems(): BusProblem[] {
    return this.subscriptionErrors.map((p) => ({ ...p }));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [s, h] of this.mine) this.net.subs.get(s)?.delete(h);
  }
}
