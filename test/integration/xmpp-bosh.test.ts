/**
 * BOSH (XEP-0124/0206) as a transport of the lean client, through `bin/amoc run` against Prosody's mod_bosh
 * (/http-bind) and ejabberd's (/bosh), both enabled in config/servers/.
 */
import { describe, expect, it } from "vitest";
import { amoc } from "../helpers/proc.js";
import { ejabberdUrl, prosodyUrl } from "../helpers/endpoints.js";

const SERVERS = [
  { name: "prosody", bosh: prosodyUrl("bosh"), plain: prosodyUrl("xmpp") },
  { name: "ejabberd", bosh: ejabberdUrl("bosh"), plain: ejabberdUrl("xmpp") },
];

interface Summary {
  users: Record<string, number>;
  metrics: Record<string, { count: number }>;
  errors: Array<{ phase: string; message: string; count: number }>;
}

async function runJson(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; s: Summary }> {
  const r = await amoc(["run", ...args, "--json"], { env, timeoutMs: 120_000 });
  if (!r.stdout.trim()) throw new Error(`no summary; exit ${r.code}; stderr: ${r.stderr}`);
  return { code: r.code, s: JSON.parse(r.stdout) as Summary };
}
const count = (s: Summary, name: string) => s.metrics[name]?.count ?? 0;

describe.each(SERVERS)("BOSH against $name", (srv) => {
  it("one_to_one over BOSH delivers every message sent, with no user crashed", async () => {
    const { code, s } = await runJson(["one_to_one", "--users", "20", "--repeat", "1"], {
      AMOC_XMPP_SERVERS: srv.bosh,
    });
    expect(s.errors).toEqual([]);
    expect(code).toBe(0);
    expect(s.users).toMatchObject({ started: 20, finished: 20, crashed: 0 });
    expect(count(s, "xmpp.connection")).toBe(20);
    expect(count(s, "xmpp.messages_sent")).toBeGreaterThan(0);
    expect(count(s, "xmpp.messages_received")).toBe(count(s, "xmpp.messages_sent"));
  });

  it("logs in over BOSH with SCRAM-SHA-1 too, and chats across BOSH and TCP in multi_transport", async () => {
    const login = await runJson(["login_storm", "--users", "6", "--interarrival", "0", "--repeat", "1"], {
      AMOC_XMPP_SERVERS: srv.bosh,
      AMOC_XMPP_SASL_MECHANISM: "SCRAM-SHA-1",
    });
    expect({ users: login.s.users.finished, errors: login.s.errors }).toEqual({ users: 6, errors: [] });
    const { code, s } = await runJson(
      [
        "multi_transport",
        "--users",
        "8",
        "--repeat",
        "1",
        "--set",
        "transports=tcp,bosh",
        "--set",
        "message_count=2",
        "--set",
        "message_interval=10",
      ],
      {
        AMOC_XMPP_SERVERS: `${srv.plain},${srv.bosh}`,
      },
    );
    expect(s.errors).toEqual([]);
    expect(code).toBe(0);
    expect(count(s, "transport.bosh.connections")).toBe(4);
    expect(count(s, "transport.bosh.messages_received")).toBe(8);
    expect(count(s, "xmpp.messages_received")).toBe(count(s, "xmpp.messages_sent"));
  });
});
