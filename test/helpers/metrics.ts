/** Test doubles for metrics: an in-memory sink, a UDP listener standing in for StatsD, a logger that records lines. */
import { createSocket, type Socket } from "node:dgram";
import { pino, type Logger } from "pino";
import type { MetricSink } from "../../src/metrics/sink.js";

/** Records every call, in order, as `kind name value`. */
export class MemorySink implements MetricSink {
  readonly calls: Array<{ kind: "count" | "timing" | "gauge"; name: string; value: number }> = [];
  closed = false;
  count(name: string, n = 1): void {
    this.calls.push({ kind: "count", name, value: n });
  }
  timing(name: string, ms: number): void {
    this.calls.push({ kind: "timing", name, value: ms });
  }
  gauge(name: string, value: number): void {
    this.calls.push({ kind: "gauge", name, value });
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  /** The sum of a counter. */
  total(name: string): number {
    return this.calls.filter((c) => c.kind === "count" && c.name === name).reduce((a, c) => a + c.value, 0);
  }
  /** The last value of a gauge. */
  last(name: string): number | undefined {
    return this.calls.filter((c) => c.kind === "gauge" && c.name === name).at(-1)?.value;
  }
}

/** A UDP socket on 127.0.0.1 and a random port that keeps every datagram it receives. */
export async function udpListener(): Promise<{
  port: number;
  packets: string[];
  lines(): string[];
  close(): Promise<void>;
}> {
  const sock: Socket = createSocket("udp4");
  const packets: string[] = [];
  sock.on("message", (m) => packets.push(m.toString()));
  await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
  return {
    port: sock.address().port,
    packets,
    lines: () => packets.flatMap((p) => p.split("\n")).filter((l) => l !== ""),
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}

/** A pino logger whose lines land in `lines` as parsed objects. */
export function recordingLogger(level = "info"): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines };
}
