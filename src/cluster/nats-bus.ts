/**
 * The only importer of the NATS client: connection, publish/subscribe, request/reply and the JetStream key-value
 * bucket, behind the small `ClusterBus` interface the rest of the cluster code uses.
 */
import { readFileSync } from "node:fs";
import { Kvm, type KV } from "@nats-io/kv";
import { connect, type ConnectionOptions, type NatsConnection } from "@nats-io/transport-node";
import type { NodeSettings } from "../config/schema.js";
import { ClusterError, errorMessage } from "../errors.js";
import type { Logger } from "../log.js";
import type { BusProblem, ClusterBus, KvStore } from "./bus.js";

/** Connects to the servers of `nats_url`; a clear error when none answers. */
export async function connectBus(s: NodeSettings, bucket: string, log: Logger): Promise<ClusterBus> {
  const opts: ConnectionOptions = {
    servers: s.nats_url,
    name: `amoc-${s.node_name}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 10_000,
    timeout: 5000,
  };
  if (s.nats_user) Object.assign(opts, { user: s.nats_user, pass: s.nats_password });
  if (s.nats_token) opts.token = s.nats_token;
  if (s.nats_tls_ca) opts.tls = { ca: readFileSync(s.nats_tls_ca, "utf8") };
  let nc: NatsConnection;
  try {
    nc = await connect(opts);
  } catch (e) {
    if (isAuthFailure(e)) {
      const how = s.nats_token
        ? "a token (AMOC_NATS_TOKEN)"
        : s.nats_user
          ? `user '${s.nats_user}' (AMOC_NATS_USER/AMOC_NATS_PASSWORD)`
          : "no credentials";
      throw new ClusterError(
        "CLUSTER_UNAVAILABLE",
        `NATS at ${s.nats_url.join(", ")} refused this node's credentials (it connected with ${how}): ${errorMessage(e)}`,
        "set AMOC_NATS_USER and AMOC_NATS_PASSWORD (or AMOC_NATS_TOKEN) to the credentials of the cluster's nats-server",
        { cause: e },
      );
    }
    throw new ClusterError(
      "CLUSTER_UNAVAILABLE",
      `cannot reach NATS at ${s.nats_url.join(", ")}: ${errorMessage(e)}`,
      "start it (make servers-up SERVERS=nats) or set AMOC_NATS_URL",
      { cause: e },
    );
  }
  void (async () => {
    for await (const st of nc.status()) {
      if (st.type === "disconnect" || st.type === "reconnect")
        log.warn({ msg: `nats_${st.type}`, server: (st as { server?: string }).server });
    }
  })().catch(() => undefined);
  return new NatsBus(nc, bucket, log);
}

/** Whether a connect failure is the server refusing the credentials (not an unreachable server). */
function isAuthFailure(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c instanceof Error && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    if (
      /authoriz|authenticat|auth(entication)? (violation|expired|required)|permissions? violation/i.test(
        `${c.name} ${c.message}`,
      )
    )
      return true;
  }
  return false;
}

/**
 * Limits of the bucket this code creates (an existing bucket keeps its own): one value at most NATS's default
 * 1 MB payload, the bucket at most 128 MB (run records, ended IDs and final records of the current run, upload
 * chunks), one revision per key. JetStream reserves max_bytes per bucket against the server's max_file_store.
 */
const BUCKET_LIMITS = { history: 1, maxValueSize: 1024 * 1024, max_bytes: 128 * 1024 * 1024 };
/** Replicas wanted: the run state survives the loss of a NATS server when JetStream is clustered. */
const REPLICAS = 3;

class NatsBus implements ClusterBus {
  private kvStore: Promise<KvStore> | undefined;
  private readonly subErrors = new Map<string, BusProblem>();
  constructor(
    private readonly nc: NatsConnection,
    private readonly bucket: string,
    private readonly log: Logger,
  ) {}

  publish(subject: string, data: string): void {
    // a timer or membership callback may still fire while the node is leaving: a publish on a closed connection is
    // dropped (nobody is listening for this node any more), never an uncaught exception that kills the process
    if (this.nc.isClosed()) return;
    try {
      this.nc.publish(subject, data);
    } catch (e) {
      if (this.nc.isClosed() || this.nc.isDraining()) return;
      throw e;
    }
  }

  subscribe(
    subject: string,
    handler: (data: string, respond: ((data: string) => void) | undefined) => void,
  ): () => void {
    const sub = this.nc.subscribe(subject, {
      callback: (err, m) => {
        if (err) {
          this.noteSubscriptionError(subject, err);
          return;
        }
        handler(m.string(), m.reply ? (d: string) => void m.respond(d) : undefined);
      },
    });
    return () => sub.unsubscribe();
  }

  /** A subscription error: logged once per subject with what it affects, counted every time. */
  private noteSubscriptionError(subject: string, err: Error): void {
    const known = this.subErrors.get(subject);
    if (known) {
      known.count++;
      return;
    }
    this.subErrors.set(subject, { subject, error: errorMessage(err), count: 1 });
    this.log.error({
      msg: "nats_subscription_error",
      subject,
      err: errorMessage(err),
      affects: "messages on this subject are not received (heartbeats or commands)",
    });
  }

  problems(): BusProblem[] {
    return [...this.subErrors.values()].map((p) => ({ ...p }));
  }

  async request(subject: string, data: string, timeoutMs: number): Promise<string> {
    try {
      const r = await this.nc.request(subject, data, { timeout: timeoutMs });
      return r.string();
    } catch (e) {
      const what =
        /no responders/i.test(errorMessage(e)) || (e as { cause?: Error }).cause?.name === "NoRespondersError"
          ? "nobody listens"
          : `no reply within ${timeoutMs} ms`;
      throw new ClusterError(
        "CLUSTER_NODE_FAILED",
        `${subject}: ${what}`,
        "the node may be down or overloaded: check status() and its log",
        { cause: e },
      );
    }
  }

  kv(): Promise<KvStore> {
    return (this.kvStore ??= this.openKv());
  }

  private async openKv(): Promise<KvStore> {
    const kvm = new Kvm(this.nc);
    let kv: KV;
    try {
      kv = await kvm.create(this.bucket, { ...BUCKET_LIMITS, replicas: REPLICAS });
    } catch (first) {
      try {
        kv = await kvm.create(this.bucket, BUCKET_LIMITS);
      } catch (e) {
        throw new ClusterError(
          "CLUSTER_UNAVAILABLE",
          `cannot open the JetStream bucket ${this.bucket}: ${errorMessage(e)}`,
          "run nats-server with JetStream on (-js)",
          { cause: e },
        );
      }
      // not silent: on a NATS cluster this means the run state dies with one server
      this.log.warn({
        msg: "nats_bucket_single_replica",
        bucket: this.bucket,
        err: errorMessage(first),
        affects: `the cluster has fewer JetStream servers than the ${REPLICAS} replicas wanted (or refused them): the bucket has 1 replica, and the run state is lost if its NATS server is`,
      });
    }
    return {
      async get(key) {
        const e = await kv.get(key);
        return e && e.operation === "PUT" ? { value: e.string(), revision: e.revision } : null;
      },
      create: (key, value) => kv.create(key, value),
      update: (key, value, revision) => kv.update(key, value, revision),
      put: (key, value) => kv.put(key, value),
      async keys(filter) {
        const out: string[] = [];
        for await (const k of await kv.keys(filter)) out.push(k);
        return out;
      },
      delete: (key) => kv.purge(key),
    };
  }

  flush(): Promise<void> {
    return this.nc.flush();
  }

  async close(): Promise<void> {
    try {
      await this.nc.drain();
    } catch {
      await this.nc.close();
    }
  }
}
