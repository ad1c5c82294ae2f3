/** The REST server over TLS (api_tls_cert/api_tls_key) and its refusal of half a TLS setting or of auth off on a public address. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { startRestServer } from "../../src/api/rest/start.js";
import { loadNodeSettings } from "../../src/config/load.js";
import { createLogger } from "../../src/log.js";
import type { NodeApi } from "../../src/node/node-api.js";

const dir = mkdtempSync(join(tmpdir(), "amoc-tls-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const log = createLogger({ level: "silent", file: "", nodeName: "t" });
const api = { mode: "local", nodeName: "n1", scenarios: async () => [] } as unknown as NodeApi;
const settings = (env: Record<string, string>) =>
  loadNodeSettings({ env: { AMOC_NODE_NAME: "n1", AMOC_API_PORT: "0", AMOC_DATA_DIR: dir, ...env } });

describe("REST over TLS", () => {
  it("serves HTTPS with the given certificate", async () => {
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    const server = await startRestServer(api, settings({ AMOC_API_TLS_CERT: cert, AMOC_API_TLS_KEY: key }), log);
    try {
      expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const body = await new Promise<string>((resolve, reject) => {
        request(`${server.url}/health`, { ca: readFileSync(cert) }, (res) => {
          let b = "";
          res.on("data", (d: Buffer) => (b += d.toString()));
          res.on("end", () => resolve(b));
        })
          .on("error", reject)
          .end();
      });
      expect(JSON.parse(body)).toMatchObject({ status: "ok", node: "n1" });
    } finally {
      await server.close();
    }
  });
  it("refuses a certificate without a key, and a public address with auth off", async () => {
    const start = (env: Record<string, string>) => (async () => startRestServer(api, settings(env), log))();
    await expect(start({ AMOC_API_TLS_CERT: join(dir, "cert.pem") })).rejects.toMatchObject({ code: "CONFIG_INVALID" });
    await expect(start({ AMOC_API_HOST: "0.0.0.0", AMOC_API_AUTH: "off" })).rejects.toThrow(/AMOC_API_AUTH/);
  });
});
