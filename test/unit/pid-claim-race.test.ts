import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dataDirFor, ensureDataDir, type DataDir } from "../../src/node/data-dir.js";
import { claimPidFile, cleanStale, readPidFile } from "../../src/node/daemon-pid.js";

let tmp: string;
let d: DataDir;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "amoc-pid-race-"));
  d = dataDirFor("n1", "", { AMOC_RUN_DIR: tmp });
  ensureDataDir(d);
  // pid 2^22+1 is above Linux's pid_max limit: never a live process
  writeFileSync(d.pidFile, `${2 ** 22 + 1} 1\n`);
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** Nothing but the pid file (and the node's other files) is left: no private copies, no lock. */
function leftovers(): string[] {
  return readdirSync(d.dir).filter((f) => f !== "amoc.pid" && f.startsWith("amoc.pid"));
}

// two live pids that are not each other: this process and its parent
const A = process.pid;
const B = process.ppid;

describe("claiming a stale pid file has exactly one winner", () => {
  it("when the second claim runs after the first saw the file stale, the second wins and the first loses", () => {
    let second: ReturnType<typeof claimPidFile> | undefined;
    const first = claimPidFile(d, A, { sawStale: () => (second ??= claimPidFile(d, B)) });
    expect(second).toEqual({ ok: true });
    expect(first).toEqual({ ok: false, pid: B });
    expect(readPidFile(d.pidFile)?.pid).toBe(B);
    expect(leftovers()).toEqual([]);
  });

  it("when the second claim runs while the first holds the takeover lock, the first wins", () => {
    let second: ReturnType<typeof claimPidFile> | undefined;
    const first = claimPidFile(d, A, { locked: () => (second ??= claimPidFile(d, B)) });
    expect(second).toEqual({ ok: false, pid: A });
    expect(first).toEqual({ ok: true });
    expect(readPidFile(d.pidFile)?.pid).toBe(A);
    expect(leftovers()).toEqual([]);
  });

  it("a start's clean-up of the stale file that runs after another claim won leaves the winner's file", () => {
    let second: ReturnType<typeof claimPidFile> | undefined;
    const first = claimPidFile(d, A, {
      sawStale: () => {
        second ??= claimPidFile(d, B);
        cleanStale(d); // what `bin/amoc start` does when its probe, made earlier, said stale
      },
    });
    expect([first.ok, second?.ok]).toEqual([false, true]);
    expect(readPidFile(d.pidFile)?.pid).toBe(B);
  });

  it("a takeover lock left by a crashed claim is broken, and the claim goes on", () => {
    writeFileSync(`${d.pidFile}.lock`, `${2 ** 22 + 2} 1\n`);
    expect(claimPidFile(d, A)).toEqual({ ok: true });
    expect(existsSync(`${d.pidFile}.lock`)).toBe(false);
  });

  it("of 6 processes that claim it at the same instant, exactly one wins", async () => {
    const mod = pathToFileURL(join(import.meta.dirname, "../../src/node/daemon-pid.ts")).href;
    // each child says it is ready, blocks reading one byte of stdin (the barrier: all are released by one write
    // each, so the claims overlap), claims, prints, then stays alive until its stdin closes: a winner that exited
    // would leave its file stale for a late claimer
    const code = `import { readSync } from "node:fs";
import { claimPidFile } from ${JSON.stringify(mod)};
console.log("ready");
readSync(0, Buffer.alloc(1));
console.log(JSON.stringify(claimPidFile(${JSON.stringify(d)})));
process.stdin.resume();`;
    const kids = Array.from({ length: 6 }, () =>
      spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
        stdio: ["pipe", "pipe", "inherit"],
      }),
    );
    try {
      const lines = kids.map((k) => {
        const it = createInterface({ input: k.stdout! })[Symbol.asyncIterator]();
        return async () => {
          const r = await it.next();
          if (r.done) throw new Error(`claimer ${k.pid} closed its output`);
          return r.value as string;
        };
      });
      expect(await Promise.all(lines.map((l) => l()))).toEqual(Array(6).fill("ready"));
      for (const k of kids) k.stdin!.write("g");
      const results = (await Promise.all(lines.map((l) => l()))).map(
        (l) => JSON.parse(l) as { ok: boolean; pid?: number },
      );
      const winners = kids.filter((_, i) => results[i]!.ok);
      expect(winners).toHaveLength(1);
      expect(readPidFile(d.pidFile)?.pid).toBe(winners[0]!.pid);
      for (const r of results.filter((x) => !x.ok)) expect(r.pid).toBeGreaterThan(0);
      expect(leftovers()).toEqual([]);
    } finally {
      for (const k of kids) k.stdin?.end();
    }
  }, 60_000);
});
