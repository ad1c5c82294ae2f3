import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { prosodyUrl } from "../helpers/endpoints.js";
import { AMOC, type ProcResult } from "../helpers/proc.js";

/** `bin/amoc capacity ...` under `prlimit --nofile=N` (the generator's own fd limit), killed after 60 s. */
function capacity(args: string[], env: NodeJS.ProcessEnv, nofile?: number): Promise<ProcResult> {
  const [cmd, argv] = nofile ? ["prlimit", [`--nofile=${nofile}:${nofile}`, AMOC, ...args]] : [AMOC, args];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd as string, argv as string[], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`capacity did not end within 60 s\n${stdout}\n${stderr}`));
    }, 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe("amoc capacity against Prosody", () => {
  const dir = mkdtempSync(join(tmpdir(), "amoc-cap-"));
  const env = { AMOC_DATA_DIR: dir, AMOC_XMPP_SERVERS: prosodyUrl("xmpp"), AMOC_LOG_LEVEL: "error" };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const args = (report: string) => [
    "capacity",
    "login_storm",
    "--start",
    "50",
    "--step",
    "50",
    "--max",
    "300",
    "--hold",
    "3s",
    "--set",
    "hold_ms=60000",
    "--set",
    "interarrival=5",
    "--slo",
    "xmpp.connection.p99<5000",
    "--slo",
    "users.crashed==0",
    "--report",
    join(dir, report),
  ];

  it("a generator with 90 file descriptors is reported as generator-limited, never as the server's capacity", async () => {
    const r = await capacity(args("limited.html"), env, 90);
    expect(r.stdout).toMatch(/step +50 users +ok/);
    expect(r.stdout).toMatch(/capacity: not measured: the failing step was limited by the generator/);
    expect(r.stdout).toMatch(/EMFILE/);
    expect(r.stdout).toMatch(/broke first: users\.crashed==0/);
    expect(r.code).toBe(1);
    expect(readFileSync(join(dir, "limited.html"), "utf8")).toMatch(/generator-limited/);
  });
});
