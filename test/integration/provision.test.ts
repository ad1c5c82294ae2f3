/**
 * `scripts/servers.sh up prosody` provisions the accounts once per start, and says how long it took to the hundredth of a
 * second (the files take a fraction of one): a private Prosody on free ports in a run directory of its own.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const SERVERS = new URL("../../scripts/servers.sh", import.meta.url).pathname;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("provisioning the test accounts", () => {
  it("servers.sh up prosody provisions once, with the time it took, and no 'already provisioned' after it", async () => {
    const runDir = mkdtempSync(join(tmpdir(), "amoc-provision-"));
    const env = {
      ...process.env,
      AMOC_RUN_DIR: runDir,
      PROSODY_C2S_PORT: String(await freePort()),
      PROSODY_TLS_PORT: String(await freePort()),
      PROSODY_HTTP_PORT: String(await freePort()),
      AMOC_PROVISION_USERS: "50",
    };
    try {
      const up = spawnSync("bash", [SERVERS, "up", "prosody"], { env, encoding: "utf8", timeout: 120_000 });
      const out = up.stdout + up.stderr;
      expect(up.status, out).toBe(0);
      const lines = out.split("\n").filter((l) => l.startsWith("[provision]"));
      expect(lines).toEqual([expect.stringMatching(/provisioned user_1\.\.user_50 on localhost in \d+\.\d\d s$/)]);
    } finally {
      spawnSync("bash", [SERVERS, "down", "prosody"], { env, stdio: "ignore", timeout: 60_000 });
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});
