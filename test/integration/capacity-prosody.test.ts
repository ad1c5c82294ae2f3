/**
 * The known-capacity test: a private Prosody (scripts/servers.sh on free loopback ports, its own run dir) whose
 * open-file limit is lowered to 250 with prlimit after it started (about 15 descriptors in use), so it holds about
 * 230 connections: a search in steps of 100 must find 200, name the SLO that broke and mark the knee in its report.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { amoc } from "../helpers/proc.js";
import { freeTcpPorts } from "../helpers/servers-setup.js";

const REPO = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const SERVERS = `${REPO}/scripts/servers.sh`;
const NOFILE = 250;

describe("amoc capacity against a Prosody with a known capacity", () => {
  const runDir = mkdtempSync(join(REPO, ".run", "cap-prosody-"));
  let env: Record<string, string> = {};
  let c2s = 0;

  beforeAll(async () => {
    const [a, b, c] = (await freeTcpPorts(3)) as [number, number, number];
    c2s = a;
    env = {
      AMOC_RUN_DIR: runDir,
      PROSODY_C2S_PORT: String(a),
      PROSODY_TLS_PORT: String(b),
      PROSODY_HTTP_PORT: String(c),
      AMOC_PROVISION_USERS: "500",
    };
    execFileSync("bash", [SERVERS, "up", "prosody"], {
      env: { ...process.env, ...env },
      stdio: "ignore",
      timeout: 60_000,
    });
    // pids/<unit>.pid holds "<pid> <start time>"
    const pid = readFileSync(join(runDir, "pids", "prosody.pid"), "utf8").split(/\s+/)[0] as string;
    execFileSync("prlimit", ["--pid", pid, `--nofile=${NOFILE}:${NOFILE}`]);
  }, 90_000);
  afterAll(() => {
    execFileSync("bash", [SERVERS, "down", "prosody"], {
      env: { ...process.env, ...env },
      stdio: "ignore",
      timeout: 60_000,
    });
    rmSync(runDir, { recursive: true, force: true });
  });

  it("finds the capacity within one step, names the SLO that broke, stores the search and marks the knee", async () => {
    const report = join(runDir, "cap.html");
    const cmd = {
      env: {
        AMOC_DATA_DIR: join(runDir, "amoc"),
        AMOC_XMPP_SERVERS: `xmpp://127.0.0.1:${c2s}`,
        AMOC_LOG_LEVEL: "error",
      },
      timeoutMs: 60_000,
    };
    const r = await amoc(
      [
        "capacity",
        "login_storm",
        ...["--start", "100", "--step", "100", "--max", "1000", "--hold", "5s"],
        // users stay online; one whose connection the server cannot accept gives up after 3 s, inside the hold
        ...["--set", "hold_ms=60000", "--set", "interarrival=2", "--set", "xmpp_connect_timeout=3000"],
        ...["--slo", "users.crashed==0", "--report", report],
      ],
      cmd,
    );
    expect(r.stdout, r.stderr).toMatch(/step +200 users +ok/);
    expect(r.stdout).toMatch(/step +300 users +FAILED/);
    expect(r.stdout).toMatch(/^capacity: 200 users$/m);
    expect(r.stdout).toMatch(/broke first: users\.crashed==0: users\.crashed was \d+, wanted == 0/);
    expect(r.code).toBe(0);
    expect(readFileSync(report, "utf8")).toContain("knee: 200 users");

    const runs = JSON.parse((await amoc(["runs", "--json"], cmd)).stdout) as Array<{ id: string; kind: string }>;
    expect(runs[0]?.kind).toBe("capacity");
    const stored = (await amoc(["report", runs[0]!.id, "-o", join(runDir, "stored.html")], cmd)).code;
    expect(stored).toBe(0);
    expect(readFileSync(join(runDir, "stored.html"), "utf8")).toContain("knee: 200 users");
  }, 90_000);
});
