/** The StatsD adapter: the only importer of hot-shots. UDP, batched packets, failures logged and never thrown. */
import { lookup as dnsLookup } from "node:dns";
import { isIP } from "node:net";
import StatsDClient, { type StatsD } from "hot-shots";
import type { Logger } from "../log.js";
import { RateLimitedLog } from "./rate-limited-log.js";
import type { MetricSink } from "./sink.js";

/** One UDP packet's payload: fits a 1500-byte Ethernet MTU with IP and UDP headers, so packets are never fragmented. */
export const MAX_PACKET_BYTES = 1400;
/** Collected metrics are sent this often (and a packet that is not full leaves then): short against StatsD's 1 s flush. */
export const BUFFER_FLUSH_MS = 100;
/** close() gives up on the last packets after this long. */
const CLOSE_TIMEOUT_MS = 2000;
/** A resolved StatsD host name is reused this long; a failed lookup is not retried sooner than FAILED_LOOKUP_TTL_MS. */
const LOOKUP_TTL_MS = 60_000;
const FAILED_LOOKUP_TTL_MS = 5000;

/** Where and how to send. */
export interface StatsdOptions {
  host: string;
  port: number;
  /** Prepended to every name, e.g. `amoc.worker1.` (see `nodePrefix`). */
  prefix: string;
  log: Logger;
  maxPacketBytes?: number;
  bufferFlushMs?: number;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/**
 * A dns.lookup for the UDP socket that remembers its answer, failures included: without it every packet to a host
 * name costs a lookup on libuv's thread pool, and a dead DNS would queue thousands of them behind the XMPP traffic.
 */
function cachingLookup(): (host: string, opts: unknown, cb?: LookupCallback) => void {
  const cache = new Map<string, { atMs: number; err: NodeJS.ErrnoException | null; address: string; family: number }>();
  return (host, opts, cb) => {
    const done = (typeof opts === "function" ? opts : cb) as LookupCallback;
    const family = isIP(host);
    if (family) return done(null, host, family);
    const hit = cache.get(host);
    const now = Date.now();
    if (hit && now - hit.atMs < (hit.err ? FAILED_LOOKUP_TTL_MS : LOOKUP_TTL_MS))
      return done(hit.err, hit.address, hit.family);
    dnsLookup(host, { family: 4 }, (err, address, fam) => {
      cache.set(host, { atMs: Date.now(), err, address, family: fam });
      done(err, address, fam);
    });
  };
}

// Calls are collected for `bufferFlushMs` and then handed to hot-shots in bulk: a counter as its sum, a gauge as its
// last value, a timer's values as etsy statsd multi-value lines (`name:1.2|ms:3.4|ms`), each fitting one packet.
// StatsD aggregates per flush (1 s) anyway, so Graphite sees the same sums, last values and percentiles, while
// hot-shots runs once per name and window instead of once per measurement: its per-call cost alone (debug logging,
// name sanitising) was 9 us per stanza, 15 % of a core at 10,000 stanzas/s; collected, it is 1.5 %.
/** Sends counters, timings and gauges to a StatsD daemon over UDP, collected per window and batched into packets. */
export class StatsdSink implements MetricSink {
  private readonly client: StatsD;
  private readonly errors: RateLimitedLog;
  private readonly timer: NodeJS.Timeout;
  private readonly maxPacketBytes: number;
  private counters = new Map<string, number>();
  private timings = new Map<string, number[]>();
  private gauges = new Map<string, number>();
  private closing: Promise<void> | undefined;

  constructor(private readonly o: StatsdOptions) {
    this.errors = new RateLimitedLog(o.log, "statsd_send_failed");
    this.maxPacketBytes = o.maxPacketBytes ?? MAX_PACKET_BYTES;
    this.client = new StatsDClient({
      host: o.host,
      port: o.port,
      protocol: "udp",
      prefix: o.prefix,
      maxBufferSize: this.maxPacketBytes,
      bufferFlushInterval: o.bufferFlushMs ?? BUFFER_FLUSH_MS,
      // DD_* variables in the environment must not switch the client to DogStatsD lines etsy statsd cannot read
      datadog: false,
      telegraf: false,
      includeDataDogTags: false,
      udpSocketOptions: { type: isIP(o.host) === 6 ? "udp6" : "udp4", lookup: cachingLookup() as never },
      errorHandler: (e) => this.errors.warn(e, { host: o.host, port: o.port }),
    });
    this.timer = setInterval(() => this.flush(), o.bufferFlushMs ?? BUFFER_FLUSH_MS);
    this.timer.unref();
  }

  count(name: string, n = 1): void {
    if (this.closing || !Number.isFinite(n)) return;
    this.counters.set(name, (this.counters.get(name) ?? 0) + n);
  }

  timing(name: string, ms: number): void {
    if (this.closing || !Number.isFinite(ms)) return;
    const list = this.timings.get(name);
    // microsecond precision is plenty and keeps lines short, so more values fit a packet
    const v = Math.round(ms * 1000) / 1000;
    if (list) list.push(v);
    else this.timings.set(name, [v]);
  }

  gauge(name: string, value: number): void {
    if (this.closing || !Number.isFinite(value)) return;
    this.gauges.set(name, value);
  }

  /** Hands everything collected since the last flush to hot-shots and sends the packets now. */
  flush(): void {
    const { counters, timings, gauges } = this;
    if (counters.size === 0 && timings.size === 0 && gauges.size === 0) return;
    this.counters = new Map();
    this.timings = new Map();
    this.gauges = new Map();
    try {
      for (const [name, n] of counters) this.client.increment(name, n);
      for (const [name, values] of timings)
        for (const line of this.timingLines(name, values)) this.client.timing(name, line as unknown as number);
      for (const [name, v] of gauges) {
        // StatsD reads "-5|g" as "subtract 5": a negative absolute value needs a reset to 0 first
        if (v < 0) this.client.gauge(name, 0);
        this.client.gauge(name, v);
      }
      this.client.flush();
    } catch (e) {
      this.errors.warn(e);
    }
  }

  /**
   * The values of one timer as `v|ms:v|ms:...:v` chunks (hot-shots appends the last `|ms`), each short enough that
   * `<prefix><name>:<chunk>|ms` fits one packet: a line is never split across packets, so none can arrive half.
   */
  private timingLines(name: string, values: number[]): string[] {
    const budget = Math.max(64, this.maxPacketBytes - Buffer.byteLength(this.o.prefix + name) - 4);
    const lines: string[] = [];
    let line = "";
    for (const v of values) {
      const item = String(v);
      if (line !== "" && line.length + item.length + 4 > budget) {
        lines.push(line);
        line = "";
      }
      line = line === "" ? item : `${line}|ms:${item}`;
    }
    if (line !== "") lines.push(line);
    return lines;
  }

  /** How many send failures were reported (logged or suppressed). */
  get failures(): number {
    return this.errors.count;
  }

  close(): Promise<void> {
    if (!this.closing) {
      clearInterval(this.timer);
      this.flush();
    }
    this.closing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.o.log.warn({ msg: "statsd_close_timeout", timeout_ms: CLOSE_TIMEOUT_MS });
        resolve();
      }, CLOSE_TIMEOUT_MS);
      timer.unref();
      try {
        this.client.close((err) => {
          if (err) this.errors.warn(err);
          clearTimeout(timer);
          resolve();
        });
      } catch (e) {
        this.errors.warn(e);
        clearTimeout(timer);
        resolve();
      }
    });
    return this.closing;
  }
}
