/**
 * The generated REST token's runtime files (0600 in a 0700 directory, removed at close by their writer only), how a
 * client on the same machine finds the token from a URL, and the upload index surviving corruption.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { clientToken } from "../../src/api/rest/client-token.js";
import {
  apiFile,
  discoveryFile,
  generateToken,
  localToken,
  removeApiRuntime,
  writeApiRuntime,
} from "../../src/node/api-token.js";
import { DirScenarioStore } from "../../src/scenario/upload-dir-store.js";

mkdirSync(resolve(".run/test"), { recursive: true });
const dir = mkdtempSync(join(resolve(".run/test"), "api-token-"));
const env = { AMOC_RUN_DIR: dir };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the generated token", () => {
  it("is 48 hex characters, new each time", () => {
    const a = generateToken();
    expect(a).toMatch(/^[0-9a-f]{48}$/);
    expect(generateToken()).not.toBe(a);
  });

  it("is written 0600 in a 0700 directory, found from a loopback URL's port, and removed at close", () => {
    const token = generateToken();
    const files = [apiFile(join(dir, "node1")), discoveryFile(4711, env)];
    writeApiRuntime({ url: "http://127.0.0.1:4711", token, pid: process.pid, node: "node1" }, files);
    for (const f of files) {
      expect(statSync(f).mode & 0o777).toBe(0o600);
      expect(statSync(join(f, "..")).mode & 0o777).toBe(0o700);
    }
    expect(JSON.parse(readFileSync(files[0] as string, "utf8"))).toMatchObject({
      url: "http://127.0.0.1:4711",
      token,
      pid: process.pid,
    });
    expect(localToken("http://127.0.0.1:4711", env)).toBe(token);
    expect(localToken("http://localhost:4711/", env)).toBe(token);
    expect(clientToken({ url: "http://127.0.0.1:4711", env })).toBe(token);
    // never sent to another host, nor for another port
    expect(localToken("http://example.com:4711", env)).toBeUndefined();
    expect(localToken("http://127.0.0.1:4712", env)).toBeUndefined();
    removeApiRuntime(files, process.pid + 1); // not its writer: stays
    expect(localToken("http://127.0.0.1:4711", env)).toBe(token);
    removeApiRuntime(files);
    expect(localToken("http://127.0.0.1:4711", env)).toBeUndefined();
  });

  it("is not trusted from a file others could read", () => {
    const f = discoveryFile(4713, env);
    writeApiRuntime({ url: "http://127.0.0.1:4713", token: "x".repeat(20), pid: process.pid, node: "n" }, [f]);
    chmodSync(f, 0o644);
    expect(localToken("http://127.0.0.1:4713", env)).toBeUndefined();
  });

  it("an explicit --token-file, --token (with a warning about ps) or AMOC_API_TOKEN wins over the local file", () => {
    const f = join(dir, "tok");
    writeFileSync(f, "from-file-token-0123\n", { mode: 0o600 });
    expect(clientToken({ url: "http://127.0.0.1:1", tokenFile: f, env })).toBe("from-file-token-0123");
    const warned: string[] = [];
    expect(clientToken({ url: "http://127.0.0.1:1", token: "argv-token", env, warn: (l) => warned.push(l) })).toBe(
      "argv-token",
    );
    expect(warned.join("")).toMatch(/ps.*--token-file/);
    expect(clientToken({ url: "http://127.0.0.1:1", env: { ...env, AMOC_API_TOKEN: "env-token" } })).toBe("env-token");
  });
});

describe("the upload index", () => {
  it("a corrupt index.json is rebuilt from the uploaded files with a warning, not a failure of every listing", async () => {
    const up = join(dir, "uploads");
    const warnings: string[] = [];
    const store = new DirScenarioStore(up, (m) => warnings.push(m));
    await store.put("one", "v1", "export async function start() {}\n");
    await store.put("two", "v2", "export async function start() {}\n");
    writeFileSync(join(up, "index.json"), '{"one": {"name": "one", "vers');
    expect((await store.list()).map((e) => [e.name, e.version])).toEqual([
      ["one", "v1"],
      ["two", "v2"],
    ]);
    expect(warnings.join("")).toMatch(/index.json is unreadable.*rebuilt/);
    expect(JSON.parse(readFileSync(join(up, "index.json"), "utf8"))).toHaveProperty("two");
    expect(await store.latest("two")).toMatchObject({ version: "v2" });
  });
});
