import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { backoffMs, parseProcs, WorkerSupervisor, type WorkerChild } from "../../src/api/commands/worker-procs.js";
import { UsageError } from "../../src/errors.js";
import { until } from "../helpers/wait.js";

/** A fake worker process: records its env and the signals sent; `die()` makes it exit. */
class FakeChild implements WorkerChild {
  static nextPid = 1000;
  readonly pid = FakeChild.nextPid++;
  readonly signals: NodeJS.Signals[] = [];
  private exitCb: ((code: number | null, signal: NodeJS.Signals | null) => void) | undefined;
  constructor(
    readonly name: string,
    readonly env: NodeJS.ProcessEnv,
    private readonly exitOnTerm = true,
  ) {}
  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (signal === "SIGKILL" || this.exitOnTerm) this.die(null, signal);
  }
  onExit(cb: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    this.exitCb = cb;
  }
  die(code: number | null = 1, signal: NodeJS.Signals | null = null): void {
    const cb = this.exitCb;
    this.exitCb = undefined;
    setImmediate(() => cb?.(code, signal));
  }
}

function fakeSupervisor(procs: number, env: NodeJS.ProcessEnv = {}, exitOnTerm = true) {
  const spawned: FakeChild[] = [];
  const lines: string[] = [];
  const sup = new WorkerSupervisor({
    procs,
    baseName: "h2",
    env,
    spawnWorker: (name, e) => {
      const c = new FakeChild(name, e, exitOnTerm);
      spawned.push(c);
      return c;
    },
    restartDelayMs: () => 0,
    stopTimeoutMs: 50,
    log: (l) => lines.push(l),
  });
  return { sup, spawned, lines };
}

describe("worker --procs", () => {
  it("starts one worker per process, named <node name>-1..N", () => {
    const { sup, spawned } = fakeSupervisor(3);
    sup.start();
    expect(sup.names()).toEqual(["h2-1", "h2-2", "h2-3"]);
    expect(spawned.map((c) => c.env.AMOC_NODE_NAME)).toEqual(["h2-1", "h2-2", "h2-3"]);
    expect(sup.pids()).toEqual(spawned.map((c) => c.pid));
  });

  it("gives each worker its own data directory under AMOC_DATA_DIR", () => {
    const { sup, spawned } = fakeSupervisor(2, {
      AMOC_DATA_DIR: "/var/lib/amoc",
      AMOC_NATS_URL: "nats://10.0.0.1:4222",
    });
    sup.start();
    expect(spawned.map((c) => c.env.AMOC_DATA_DIR)).toEqual(["/var/lib/amoc/h2-1", "/var/lib/amoc/h2-2"]);
    expect(spawned[0]?.env.AMOC_NATS_URL).toBe("nats://10.0.0.1:4222");
  });

  it("restarts a worker that dies, under the same name, and leaves the others alone", async () => {
    const { sup, spawned, lines } = fakeSupervisor(2);
    sup.start();
    spawned[1]?.die(1);
    await until(() => spawned.length === 3, 2000, "the restart");
    expect(spawned[2]?.name).toBe("h2-2");
    expect(sup.pids()).toEqual([spawned[0]?.pid, spawned[2]?.pid]);
    expect(sup.restarts()).toEqual([0, 1]);
    expect(lines.join("\n")).toContain("worker h2-2 exited (code 1)");
  });

  it("stops every worker with SIGTERM and restarts none of them", async () => {
    const { sup, spawned } = fakeSupervisor(2);
    sup.start();
    await sup.stop();
    expect(spawned.map((c) => c.signals)).toEqual([["SIGTERM"], ["SIGTERM"]]);
    expect(spawned).toHaveLength(2);
    expect(sup.pids()).toEqual([undefined, undefined]);
  });

  it("kills a worker that ignores SIGTERM after the stop timeout", async () => {
    const { sup, spawned, lines } = fakeSupervisor(1, {}, false);
    sup.start();
    await sup.stop();
    expect(spawned[0]?.signals).toEqual(["SIGTERM", "SIGKILL"]);
    expect(lines.join("\n")).toContain("SIGKILL");
  });

  it("backs off on repeated quick deaths, up to 30 s", () => {
    expect([1, 2, 3, 4].map(backoffMs)).toEqual([500, 1000, 2000, 4000]);
    expect(backoffMs(20)).toBe(30_000);
  });

  it("parses --procs N, --procs=N and --procs auto, and rejects anything else", () => {
    expect(parseProcs([])).toBeUndefined();
    expect(parseProcs(["--procs", "4"])).toBe(4);
    expect(parseProcs(["--procs=2"])).toBe(2);
    expect(parseProcs(["--procs", "auto"], 16)).toBe(16);
    for (const bad of [["--procs"], ["--procs", "0"], ["--procs", "1.5"], ["--procs", "x"], ["--other"]]) {
      expect(() => parseProcs(bad)).toThrow(UsageError);
    }
  });
});

describe("worker --procs with real processes", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("replaces a worker killed with SIGKILL by a new process with the same name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "amoc-procs-"));
    dirs.push(dir);
    // each "worker" writes its name to <dir>/<pid> and waits for SIGTERM
    const script = `require("fs").writeFileSync(require("path").join(${JSON.stringify(dir)}, String(process.pid)), process.env.AMOC_NODE_NAME); process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000);`;
    const sup = new WorkerSupervisor({
      procs: 2,
      baseName: "w",
      env: { PATH: process.env.PATH },
      restartDelayMs: () => 0,
      spawnWorker: (_name, env) => {
        const c = spawn(process.execPath, ["-e", script], { env, stdio: "ignore" });
        return { pid: c.pid, kill: (s) => void c.kill(s), onExit: (cb) => void c.once("exit", cb) };
      },
    });
    const nameOf = (pid: number | undefined) => {
      try {
        return readFileSync(join(dir, String(pid)), "utf8");
      } catch {
        return undefined;
      }
    };
    try {
      sup.start();
      const [first, second] = sup.pids();
      await until(() => nameOf(first) === "w-1" && nameOf(second) === "w-2", 10_000, "both workers");
      process.kill(second as number, "SIGKILL");
      await until(
        () => sup.pids()[1] !== undefined && sup.pids()[1] !== second && nameOf(sup.pids()[1]) === "w-2",
        10_000,
        "w-2 restarted",
      );
      expect(sup.pids()[0]).toBe(first);
    } finally {
      await sup.stop();
    }
    expect(sup.pids()).toEqual([undefined, undefined]);
  });
});
