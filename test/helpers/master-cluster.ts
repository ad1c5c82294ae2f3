/** Set-up shared by the master-*.test.ts files: a fake cluster closed after its test, run settings and probes. */
import { onTestFinished } from "vitest";
import type { RunState } from "../../src/cluster/run-state.js";
import { fakeCluster, subjects } from "./fake-cluster.js";

export type Cluster = Awaited<ReturnType<typeof fakeCluster>>;

/** fakeCluster, closed when the calling test ends. */
export async function testCluster(n: number, o?: Parameters<typeof fakeCluster>[1]): Promise<Cluster> {
  const c = await fakeCluster(n, o);
  onTestFinished(() => c.close());
  return c;
}

/** Users that hold their place for the whole test, and users that end at once. */
export const HOLD = { interarrival: 0, repeat_num: 1, delay_ms: 600_000 };
export const ENDS = { interarrival: 0, repeat_num: 1, delay_ms: 0 };
export const running = (c: Cluster) => c.workers.reduce((n, w) => n + w.controller.status().users.running, 0);
export const runRecord = (c: Cluster) => JSON.parse(c.net.kv.peek(subjects.runKey())!) as RunState;
export interface Result {
  ok: boolean;
  error?: string;
  result?: Record<string, unknown>;
}
