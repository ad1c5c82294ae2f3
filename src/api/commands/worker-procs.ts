/** `amoc worker --procs N`: one parent supervising N worker processes (<node name>-1..N), restarting one that dies. */
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { loadNodeSettings } from "../../config/load.js";
import { UsageError } from "../../errors.js";

export const WORKER_USAGE = `usage: amoc worker [--procs N|auto]
  a cluster worker: joins NATS (AMOC_NATS_URL) and runs the users masters deal it, until SIGTERM/SIGINT
  --procs N   N worker processes (Node runs JavaScript on one core: one per core; auto = this machine's cores),
              each a cluster node named <node name>-1..N, under one parent that restarts a worker that dies;
              with AMOC_DATA_DIR set, worker i uses AMOC_DATA_DIR/<node name>-i`;

/** A supervised worker process as the supervisor sees it (a real child process, or a fake in tests). */
export interface WorkerChild {
  readonly pid: number | undefined;
  kill(signal: NodeJS.Signals): void;
  /** Called once when the process has exited. */
  onExit(cb: (code: number | null, signal: NodeJS.Signals | null) => void): void;
}

/** Starts one worker process named `name` with environment `env`. */
export type SpawnWorker = (name: string, env: NodeJS.ProcessEnv) => WorkerChild;

/** How the supervisor runs. */
export interface SupervisorOptions {
  procs: number;
  /** Worker i is named `<baseName>-<i>`, i = 1..procs. */
  baseName: string;
  spawnWorker: SpawnWorker;
  env?: NodeJS.ProcessEnv;
  /** Delay before restarting a worker after its n-th consecutive quick death (default 0.5 s doubling up to 30 s). */
  restartDelayMs?: (consecutiveFailures: number) => number;
  /** A worker that ran this long before dying starts over at the first delay (default 10 s). */
  healthyAfterMs?: number;
  /** SIGTERM, then SIGKILL after this long (default 30 s). */
  stopTimeoutMs?: number;
  log?: (line: string) => void;
}

interface Slot {
  name: string;
  child: WorkerChild | undefined;
  startedAt: number;
  failures: number;
  restarts: number;
  timer: NodeJS.Timeout | undefined;
  exited: Promise<void>;
}

/** The default restart backoff: 500 ms, 1 s, 2 s, ... at most 30 s. */
export function backoffMs(consecutiveFailures: number): number {
  return Math.min(30_000, 500 * 2 ** Math.max(0, consecutiveFailures - 1));
}

/** Keeps `procs` named worker processes alive until stopped. */
export class WorkerSupervisor {
  private readonly slots: Slot[];
  private stopping = false;
  private readonly log: (line: string) => void;

  constructor(private readonly o: SupervisorOptions) {
    if (!Number.isSafeInteger(o.procs) || o.procs < 1)
      throw new UsageError(`--procs must be a positive integer, not ${o.procs}`, "e.g. amoc worker --procs 4");
    this.log = o.log ?? (() => {});
    this.slots = Array.from({ length: o.procs }, (_, i) => ({
      name: `${o.baseName}-${i + 1}`,
      child: undefined,
      startedAt: 0,
      failures: 0,
      restarts: 0,
      timer: undefined,
      exited: Promise.resolve(),
    }));
  }

  /** Starts every worker. */
  start(): void {
    for (const s of this.slots) this.launch(s);
  }

  /** The workers' node names, in order. */
  names(): string[] {
    return this.slots.map((s) => s.name);
  }

  /** The current pid of each worker (undefined while it waits for a restart). */
  pids(): (number | undefined)[] {
    return this.slots.map((s) => s.child?.pid);
  }

  /** How many times each worker was restarted. */
  restarts(): number[] {
    return this.slots.map((s) => s.restarts);
  }

  /** SIGTERM to every worker (SIGKILL after the stop timeout); resolves once all have exited. Nothing restarts after. */
  async stop(): Promise<void> {
    this.stopping = true;
    const timeoutMs = this.o.stopTimeoutMs ?? 30_000;
    await Promise.all(
      this.slots.map(async (s) => {
        clearTimeout(s.timer);
        const child = s.child;
        if (!child) return;
        child.kill("SIGTERM");
        let kill: NodeJS.Timeout | undefined;
        await Promise.race([s.exited, new Promise<void>((r) => (kill = setTimeout(r, timeoutMs)))]);
        clearTimeout(kill);
        if (s.child) {
          this.log(`worker ${s.name} did not stop within ${timeoutMs} ms: SIGKILL`);
          child.kill("SIGKILL");
          await s.exited;
        }
      }),
    );
  }

  private launch(s: Slot): void {
    s.timer = undefined;
    if (this.stopping) return;
    const base = this.o.env ?? process.env;
    const env: NodeJS.ProcessEnv = { ...base, AMOC_NODE_NAME: s.name };
    if (base.AMOC_DATA_DIR) env.AMOC_DATA_DIR = join(base.AMOC_DATA_DIR, s.name);
    const child = this.o.spawnWorker(s.name, env);
    s.child = child;
    s.startedAt = Date.now();
    s.exited = new Promise<void>((resolve) =>
      child.onExit((code, signal) => {
        s.child = undefined;
        resolve();
        if (!this.stopping) this.restartLater(s, code, signal);
      }),
    );
  }

  private restartLater(s: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    s.failures = Date.now() - s.startedAt >= (this.o.healthyAfterMs ?? 10_000) ? 1 : s.failures + 1;
    const delayMs = (this.o.restartDelayMs ?? backoffMs)(s.failures);
    s.restarts++;
    this.log(`worker ${s.name} exited (${signal ?? `code ${code}`}); restarting it in ${delayMs} ms`);
    s.timer = setTimeout(() => this.launch(s), delayMs);
  }
}

/** `--procs N` (or `--procs=N`, `auto` = the cores); undefined when absent. Other arguments are usage errors. */
export function parseProcs(args: string[], cores: number = availableParallelism()): number | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === "--procs") value = args[++i];
    else if (a.startsWith("--procs=")) value = a.slice("--procs=".length);
    else throw new UsageError(`amoc worker: unknown argument '${a}'`, WORKER_USAGE);
  }
  if (args.length === 0) return undefined;
  if (value === "auto") return cores;
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`--procs must be a positive integer or 'auto', not '${value ?? ""}'`, WORKER_USAGE);
  return n;
}

/** Runs `bin/amoc worker` (this very CLI, with the same loader flags) as a child that shares our stdout and stderr. */
export function spawnCliWorker(_name: string, env: NodeJS.ProcessEnv): WorkerChild {
  const cli = process.argv[1] as string;
  const child = spawn(process.execPath, [...process.execArgv, cli, "worker"], {
    env,
    stdio: ["ignore", "inherit", "inherit"],
  });
  return {
    pid: child.pid,
    kill: (signal) => void child.kill(signal),
    onExit: (cb) => void child.once("exit", cb),
  };
}

/** `amoc worker --procs N`: starts the workers, and stops them all on SIGTERM/SIGINT. */
export async function workerProcsCommand(procs: number): Promise<number> {
  const baseName = loadNodeSettings({ defaults: { log_level: "warn" } }).node_name;
  const sup = new WorkerSupervisor({
    procs,
    baseName,
    spawnWorker: spawnCliWorker,
    log: (line) => process.stderr.write(`amoc worker --procs: ${line}\n`),
  });
  sup.start();
  process.stderr.write(
    `amoc worker --procs ${procs}: started ${sup
      .names()
      .map((n, i) => `${n} (pid ${sup.pids()[i]})`)
      .join(", ")}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await sup.stop();
  process.stderr.write(`amoc worker --procs ${procs}: all workers stopped\n`);
  return 0;
}
