/** Set-up shared by the `--dist` integration files: one nats-server and a scratch directory per file. */
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { NatsCluster } from "./nats-cluster.js";

export interface DistScratch {
  /** Set before the file's own beforeAll runs. */
  nats: NatsCluster;
  dir: string;
  /** Processes the file starts: killed after it. */
  procs: ChildProcess[];
}

/** Starts a 1-node NATS and makes a scratch directory `prefix...` for the calling file; all gone after it. */
export function useDistScratch(prefix: string): DistScratch {
  const s = { procs: [] as ChildProcess[] } as DistScratch;
  beforeAll(async () => {
    s.dir = mkdtempSync(join(tmpdir(), prefix));
    s.nats = await NatsCluster.start(1);
  }, 60_000);
  afterAll(async () => {
    for (const p of s.procs) p.kill("SIGKILL");
    await s.nats?.stop();
    rmSync(s.dir, { recursive: true, force: true });
  });
  return s;
}
