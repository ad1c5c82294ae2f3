import { describe, expect, it } from "vitest";
import { loadNodeSettings } from "../../src/config/load.js";
import { ConfigError } from "../../src/errors.js";

describe("node settings", () => {
  it("reads AMOC_<UPPER> and the original lower-case AMOC_<name>", () => {
    const s = loadNodeSettings({ env: { AMOC_INTERARRIVAL: "20", AMOC_repeat_interval: "2s" } });
    expect(s.interarrival).toBe(20);
    expect(s.repeat_interval).toBe(2000);
  });

  it("upper case wins over lower case when both are set", () => {
    expect(loadNodeSettings({ env: { AMOC_INTERARRIVAL: "20", AMOC_interarrival: "30" } }).interarrival).toBe(20);
  });

  it("accepts infinity for repeat_num and reads 0/false as false", () => {
    const s = loadNodeSettings({ env: { AMOC_REPEAT_NUM: "infinity", AMOC_XMPP_TLS_VERIFY: "0" } });
    expect(s.repeat_num).toBe(Infinity);
    expect(s.xmpp_tls_verify).toBe(false);
    expect(loadNodeSettings({ env: { AMOC_XMPP_TLS_VERIFY: "false" } }).xmpp_tls_verify).toBe(false);
  });

  it("parses lists and labels", () => {
    const s = loadNodeSettings({ env: { AMOC_NATS_URL: "nats://a:1, nats://b:2", AMOC_NODE_LABELS: "zone=a,rack=7" } });
    expect(s.nats_url).toEqual(["nats://a:1", "nats://b:2"]);
    expect(s.node_labels).toEqual({ zone: "a", rack: "7" });
  });

  it("reports every bad value at once, naming the variable and the expected format", () => {
    let err: unknown;
    try {
      loadNodeSettings({ env: { AMOC_INTERARRIVAL: "abc", AMOC_API_PORT: "99999", AMOC_REPEAT_NUM: "0" } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const msg = (err as ConfigError).message;
    expect(msg).toMatch(/AMOC_INTERARRIVAL: must be a duration in ms/);
    expect(msg).toMatch(/AMOC_API_PORT: must be a port number/);
    expect(msg).toMatch(/AMOC_REPEAT_NUM: must be a positive integer or 'infinity'/);
    expect((err as ConfigError).problems).toHaveLength(3);
  });

  it("run overrides beat env, and an unknown override is an error", () => {
    expect(loadNodeSettings({ env: { AMOC_INTERARRIVAL: "20" }, overrides: { interarrival: 5 } }).interarrival).toBe(5);
    expect(() => loadNodeSettings({ overrides: { interarival: 5 } })).toThrow(/settings.interarival: is not a setting/);
  });

  it("a config file is below env and its unknown keys are errors", async () => {
    const { writeFileSync, mkdtempSync } = await import("node:fs");
    const dir = mkdtempSync("/tmp/amoc-cfg-");
    writeFileSync(`${dir}/c.json`, JSON.stringify({ interarrival: 7, repeat_interval: 9 }));
    const s = loadNodeSettings({ env: { AMOC_CONFIG_FILE: `${dir}/c.json`, AMOC_INTERARRIVAL: "3" } });
    expect(s.interarrival).toBe(3);
    expect(s.repeat_interval).toBe(9);
    writeFileSync(`${dir}/bad.json`, JSON.stringify({ bogus: 1 }));
    expect(() => loadNodeSettings({ env: { AMOC_CONFIG_FILE: `${dir}/bad.json` } })).toThrow(
      /bad.json: bogus: is not a setting/,
    );
  });
});
