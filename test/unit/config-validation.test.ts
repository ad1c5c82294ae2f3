import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseRunArgs } from "../../src/api/run/options.js";
import { loadNodeSettings } from "../../src/config/load.js";
import { SCHEMA, envName, type SettingKey } from "../../src/config/schema.js";
import { ConfigError } from "../../src/errors.js";
import { seen } from "../fixtures/scenarios/lifecycle.js";
import { testController } from "../helpers/node.js";

const here = new URL(".", import.meta.url).pathname;

/** One bad value per setting, as it would arrive in the environment. */
const BAD: Record<SettingKey, string> = {
  interarrival: "abc",
  repeat_interval: "-5",
  repeat_num: "0",
  stages: '[{"duration": "0s", "target": 5}]',
  arrival_rate: "not json",
  arrival_process: "bursty",
  mix: '{"muc": 0}',
  throttles: '{"msg": {"speed": 1}}',
  node_name: "has space",
  node_labels: "zone",
  scenarios_dir: "/nonexistent/scenarios",
  log_level: "loud",
  log_file: here,
  log_format: "pretty",
  nats_url: "http://127.0.0.1:4222",
  nats_user: "two words",
  nats_password: "secret\n",
  nats_token: "tok\n",
  nats_tls_ca: "/nonexistent/ca.pem",
  nats_timeout: "0",
  cluster_name: "a.b",
  api_host: "not a host",
  api_port: "99999",
  api_token: "bearer token",
  api_auth: "maybe",
  api_allowed_hosts: "bad host!",
  api_uploads: "perhaps",
  api_tls_cert: "/nonexistent/cert.pem",
  api_tls_key: "/nonexistent/key.pem",
  data_dir: new URL(import.meta.url).pathname,
  results_interval: "0",
  statsd_host: "bad host",
  statsd_port: "0",
  prometheus_port: "70000",
  prometheus_host: "bad host",
  metrics_prefix: "a..b",
  sut_metrics_url: "ftp://127.0.0.1/metrics",
  sut_metrics_select: "process cpu",
  sut_process: "two words",
  graphite_events_url: "ftp://127.0.0.1/events/",
  xmpp_servers: "garbage",
  xmpp_domain: "user@host",
  xmpp_user_template: "user <id>",
  xmpp_password_template: "   ",
  xmpp_sasl_mechanism: "FOO",
  xmpp_starttls: "maybe",
  xmpp_tls_verify: "maybe",
  xmpp_connect_timeout: "0",
  xmpp_connect_retries: "1.5",
  xmpp_stream_management: "perhaps",
};

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

describe("settings validation", () => {
  it("the table of bad values covers every key of the schema", () => {
    expect(Object.keys(BAD).sort()).toEqual(Object.keys(SCHEMA).sort());
  });

  it.each(Object.entries(BAD))("a bad %s fails at load, naming its env variable", (key, bad) => {
    const err = configError(() => loadNodeSettings({ env: { [envName(key)]: bad } }));
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]?.source).toBe(envName(key));
    expect(err.message).toContain(`${envName(key)}: `);
  });

  it("xmpp_servers is parsed at load: the error names AMOC_XMPP_SERVERS and the bad entry", () => {
    const err = configError(() =>
      loadNodeSettings({ env: { AMOC_XMPP_SERVERS: "xmpp://127.0.0.1:5222, garbage, bogus://h:1, xmpp://" } }),
    );
    expect(err.message).toMatch(/AMOC_XMPP_SERVERS: entry 'garbage' is not a URL/);
    expect(err.message).toMatch(/entry 'bogus:\/\/h:1' has the unknown scheme bogus:/);
    expect(err.message).not.toMatch(/entry 'xmpp:\/\/127\.0\.0\.1:5222'/);
  });

  it("accepts every endpoint scheme and host form the XMPP client speaks", () => {
    const s = loadNodeSettings({
      env: {
        AMOC_XMPP_SERVERS:
          "xmpp://127.0.0.1:5222,xmpps://localhost:5223,ws://[::1]:5280/xmpp-websocket,wss://xmpp.example.com/ws",
      },
    });
    expect(s.xmpp_servers).toHaveLength(4);
  });

  it("reads SASL mechanisms case-insensitively, as the client does, and keeps auto", () => {
    expect(loadNodeSettings({ env: { AMOC_XMPP_SASL_MECHANISM: "scram-sha-256" } }).xmpp_sasl_mechanism).toBe(
      "SCRAM-SHA-256",
    );
    expect(loadNodeSettings({ env: { AMOC_XMPP_SASL_MECHANISM: "AUTO" } }).xmpp_sasl_mechanism).toBe("auto");
    expect(loadNodeSettings({ env: { AMOC_XMPP_SASL_MECHANISM: "SCRAM-SHA-1" } }).xmpp_sasl_mechanism).toBe(
      "SCRAM-SHA-1",
    );
  });

  it("xmpp_connect_retries is a count: 0 and 100000 are fine, a negative or fractional one is not", () => {
    expect(loadNodeSettings({ env: { AMOC_XMPP_CONNECT_RETRIES: "0" } }).xmpp_connect_retries).toBe(0);
    expect(loadNodeSettings({ env: { AMOC_XMPP_CONNECT_RETRIES: "100000" } }).xmpp_connect_retries).toBe(100000);
    expect(configError(() => loadNodeSettings({ env: { AMOC_XMPP_CONNECT_RETRIES: "-1" } })).message).toMatch(
      /AMOC_XMPP_CONNECT_RETRIES: must be a whole number/,
    );
  });

  it("reads STARTTLS as a boolean and NATS servers with or without a scheme", () => {
    const s = loadNodeSettings({
      env: { AMOC_XMPP_STARTTLS: "yes", AMOC_NATS_URL: "127.0.0.1:4222, tls://nats.example.com:4222" },
    });
    expect(s.xmpp_starttls).toBe(true);
    expect(s.nats_url).toEqual(["127.0.0.1:4222", "tls://nats.example.com:4222"]);
  });

  it("api_tls_cert and api_tls_key are both set or neither", () => {
    const dir = mkdtempSync(join(tmpdir(), "amoc-tls-"));
    writeFileSync(join(dir, "c.pem"), "cert");
    writeFileSync(join(dir, "k.pem"), "key");
    const both = loadNodeSettings({
      env: { AMOC_API_TLS_CERT: join(dir, "c.pem"), AMOC_API_TLS_KEY: join(dir, "k.pem") },
    });
    expect(both.api_tls_cert).toBe(join(dir, "c.pem"));
    const err = configError(() => loadNodeSettings({ env: { AMOC_API_TLS_CERT: join(dir, "c.pem") } }));
    expect(err.message).toMatch(/api_tls_cert and api_tls_key go together.*AMOC_API_TLS_KEY is missing/);
    expect(configError(() => loadNodeSettings({ env: { AMOC_API_TLS_KEY: join(dir, "k.pem") } })).message).toMatch(
      /AMOC_API_TLS_CERT is missing/,
    );
  });

  it("data_dir may name a directory that does not exist yet, but not a file", () => {
    expect(loadNodeSettings({ env: { AMOC_DATA_DIR: "/nonexistent/amoc-data" } }).data_dir).toBe(
      "/nonexistent/amoc-data",
    );
  });

  it("run settings go through the same checks, named after where they came from", () => {
    const err = configError(() =>
      loadNodeSettings({ overrides: { xmpp_servers: "garbage", xmpp_sasl_mechanism: "FOO" }, overridesLabel: "--set" }),
    );
    expect(err.message).toMatch(/--set\.xmpp_servers: entry 'garbage' is not a URL/);
    expect(err.message).toMatch(/--set\.xmpp_sasl_mechanism: must be one of PLAIN, SCRAM-SHA-1, SCRAM-SHA-256, auto/);
  });

  it("do() with a bad run setting fails before any user starts and leaves the node's state as it was", async () => {
    const { controller } = testController();
    const initsBefore = seen.length;
    await expect(
      controller.do("lifecycle", 1, 3, { interarrival: 0, repeat_num: 1, xmpp_servers: "garbage" }),
    ).rejects.toThrow(/settings\.xmpp_servers: entry 'garbage'/);
    expect(controller.state).toBe("idle");
    expect(controller.status().error).toBeUndefined();
    expect(controller.status().users.started).toBe(0);
    expect(seen).toHaveLength(initsBefore);
  });
});

describe("durations longer than a timer can hold", () => {
  it("xmpp_connect_timeout of 25 days is refused, saying timers cannot wait longer (Node would fire it after 1 ms)", () => {
    const err = configError(() => loadNodeSettings({ env: { AMOC_XMPP_CONNECT_TIMEOUT: "600h" } }));
    expect(err.message).toMatch(
      /AMOC_XMPP_CONNECT_TIMEOUT: must be at most 2147483647 ms \(about 24 days\): timers cannot wait longer/,
    );
    expect(loadNodeSettings({ env: { AMOC_XMPP_CONNECT_TIMEOUT: "576h" } }).xmpp_connect_timeout).toBe(24 * 86_400_000);
    // `d` is no unit of the duration format: 25d is refused too, as not a duration, with the forms it takes
    expect(configError(() => loadNodeSettings({ env: { AMOC_XMPP_CONNECT_TIMEOUT: "25d" } })).message).toMatch(
      /AMOC_XMPP_CONNECT_TIMEOUT: must be a duration above 0 ms \(e\.g\. 500, 5s\)/,
    );
  });

  it("the run settings given as flags (interarrival, repeat_interval) are bounded the same way", () => {
    for (const [k, env] of [
      ["interarrival", "AMOC_INTERARRIVAL"],
      ["repeat_interval", "AMOC_REPEAT_INTERVAL"],
    ] as const) {
      const { settings } = parseRunArgs(["s", "--users", "1", `--${k.replace("_", "-")}`, "600h"]);
      expect(settings[k]).toBe("600h"); // flags become settings, checked with the rest
      expect(configError(() => loadNodeSettings({ env: { [env]: "600h" } })).message).toMatch(
        /timers cannot wait longer/,
      );
    }
  });

  it("amoc run --duration above the timer ceiling is a usage error that says why", () => {
    expect(() => parseRunArgs(["s", "--users", "1", "--duration", String(25 * 86_400)])).toThrow(
      /--duration must be at most 2147483 s \(about 24 days\).*timers cannot wait longer/,
    );
    expect(parseRunArgs(["s", "--users", "1", "--duration", "2147483"]).durationS).toBe(2147483);
  });
});
