import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  dataDirFor,
  dataRoot,
  DEFAULT_NODE_NAME,
  ensureDataDir,
  listDataDirs,
  PROJECT_ROOT,
} from "../../src/node/data-dir.js";
import {
  claimPidFile,
  cleanStale,
  isPidAlive,
  probeNode,
  readPidFile,
  releasePidFile,
} from "../../src/node/daemon-pid.js";

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), "amoc-dd-"));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

/** A pid that belonged to a process that has exited and been reaped. */
function deadPid(): number {
  const r = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(r.stdout.trim());
}

describe("data directory", () => {
  it("defaults to <project>/.run/amoc/<name>, or AMOC_RUN_DIR/amoc/<name>", () => {
    expect(dataDirFor("n1", "", {}).dir).toBe(join(PROJECT_ROOT, ".run", "amoc", "n1"));
    const d = dataDirFor("n1", "", { AMOC_RUN_DIR: tmp });
    expect(d.dir).toBe(join(tmp, "amoc", "n1"));
    expect(d.socketPath).toBe(join(tmp, "amoc", "n1", "attach.sock"));
    expect(dataRoot({ AMOC_RUN_DIR: tmp })).toBe(join(tmp, "amoc"));
    expect(DEFAULT_NODE_NAME).toBe("amoc");
  });

  it("uses settings.data_dir as the node's directory when it is set", () => {
    expect(dataDirFor("n1", join(tmp, "x"), {}).pidFile).toBe(join(tmp, "x", "node.pid"));
  });

  it("refuses node names the cluster would refuse, and socket paths too long to bind", () => {
    expect(() => dataDirFor("a b", "", {})).toThrow(/invalid node name 'a b'/);
    expect(() => dataDirFor("n", join(tmp, "x".repeat(120)), {})).toThrow(/longer than 107 bytes/);
  });

  it("creates the directory private to the user (0700)", () => {
    const d = dataDirFor("n1", "", { AMOC_RUN_DIR: tmp });
    ensureDataDir(d);
    expect(statSync(d.dir).mode & 0o777).toBe(0o700);
  });

  it("lists only directories that hold a pid file", () => {
    const env = { AMOC_RUN_DIR: tmp };
    for (const n of ["a", "b"]) ensureDataDir(dataDirFor(n, "", env));
    writeFileSync(dataDirFor("b", "", env).pidFile, "1\n");
    mkdirSync(join(tmp, "amoc", "not a name"));
    expect(listDataDirs(env).map((d) => d.name)).toEqual(["b"]);
  });
});

describe("pid file", () => {
  it("is claimed by one process, records its start time, and is released only by its owner", () => {
    const d = dataDirFor("n1", "", { AMOC_RUN_DIR: tmp });
    ensureDataDir(d);
    expect(claimPidFile(d)).toEqual({ ok: true });
    expect(readPidFile(d.pidFile)).toMatchObject({ pid: process.pid, startTime: expect.stringMatching(/^\d+$/) });
    expect(probeNode(d)).toEqual({ state: "running", pid: process.pid });
    expect(claimPidFile(d, process.pid + 1)).toEqual({ ok: false, pid: process.pid });
    releasePidFile(d, process.pid + 1);
    expect(existsSync(d.pidFile)).toBe(true);
    releasePidFile(d);
    expect(existsSync(d.pidFile)).toBe(false);
  });

  it("left by a dead process is stale, and a new claim cleans it and the socket", () => {
    const d = dataDirFor("n1", "", { AMOC_RUN_DIR: tmp });
    ensureDataDir(d);
    const pid = deadPid();
    expect(isPidAlive(pid)).toBe(false);
    writeFileSync(d.pidFile, `${pid} 123\n`);
    writeFileSync(d.socketPath, "");
    expect(probeNode(d)).toEqual({ state: "stale", pid });
    expect(claimPidFile(d)).toEqual({ ok: true });
    expect(existsSync(d.socketPath)).toBe(false);
    cleanStale(d);
  });

  it("naming a live process with another start time (a reused pid) is stale", () => {
    const d = dataDirFor("n1", "", { AMOC_RUN_DIR: tmp });
    ensureDataDir(d);
    writeFileSync(d.pidFile, `${process.pid} 1\n`);
    expect(probeNode(d)).toEqual({ state: "stale", pid: process.pid });
    writeFileSync(d.pidFile, "garbage\n");
    expect(probeNode(d)).toEqual({ state: "stale" });
  });
});
