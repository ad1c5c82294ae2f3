/**
 * The MUC helpers of `amoc-ts/xmpp` against the real Prosody (MUC service muc.localhost): the example of
 * docs/scenarios.md, written outside the package and run by path as a scenario author would, with every groupchat
 * message counted and the echo time timed as xmpp.muc_ttd.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { prosodyUrl } from "../helpers/endpoints.js";
import { amoc } from "../helpers/proc.js";

const DOC = readFileSync(new URL("../../docs/scenarios.md", import.meta.url), "utf8");

interface Summary {
  users: Record<string, number>;
  metrics: Record<string, { count?: number; p50?: number }>;
  errors: unknown[];
}

describe("MUC helpers for scenario authors (Prosody)", () => {
  it("docs/scenarios.md's muc_echo example joins, chats and leaves: groupchat counted, echoes timed as xmpp.muc_ttd", async () => {
    const code = /^```ts\n(\/\/ file: muc_echo\.ts\n[\s\S]*?)^```$/m.exec(DOC)?.[1];
    expect(code, "docs/scenarios.md has a muc_echo.ts example").toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), "amoc-muc-"));
    try {
      writeFileSync(join(dir, "muc_echo.ts"), code as string);
      const users = 6;
      const roomSize = 3;
      const messages = 2;
      const r = await amoc(
        [
          "run",
          join(dir, "muc_echo.ts"),
          "--users",
          String(users),
          "--interarrival",
          "0",
          "--set",
          `room_size=${roomSize}`,
          "--set",
          `messages=${messages}`,
          "--json",
        ],
        { env: { AMOC_XMPP_SERVERS: prosodyUrl() }, timeoutMs: 60_000 },
      );
      if (!r.stdout.trim()) throw new Error(`no summary; exit ${r.code}; stderr: ${r.stderr}`);
      const s = JSON.parse(r.stdout) as Summary;
      expect(s.errors).toEqual([]);
      expect(r.code).toBe(0);
      expect(s.users).toMatchObject({ started: users, finished: users, crashed: 0 });
      const count = (name: string) => s.metrics[name]?.count ?? 0;
      const sent = users * messages;
      expect(count("xmpp.messages_sent")).toBe(sent);
      expect(count("xmpp.muc_ttd")).toBe(sent);
      expect(count("muc.echo_rtt")).toBe(sent);
      expect(count("xmpp.groupchat_echoes")).toBe(sent);
      expect(count("xmpp.messages_received")).toBe(sent * (roomSize - 1));
      expect(count("xmpp.message_ttd")).toBe(sent * (roomSize - 1));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
