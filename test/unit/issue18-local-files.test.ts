/**
 * Issue 18, local files: a node's private directories are its user's own (never a directory another user made or
 * linked, never a shared one such as /tmp), and the token a node wrote for its port goes only to a URL that reaches
 * that node.
 */
import { chmodSync, lchownSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, chownSync } from "node:fs";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { discoveryFile, localToken, writeApiRuntime } from "../../src/node/api-token.js";
import { ensurePrivateDir } from "../../src/node/data-dir.js";

mkdirSync(resolve(".run/test"), { recursive: true });
const dir = mkdtempSync(join(resolve(".run/test"), "issue18-"));
const env = { AMOC_RUN_DIR: dir };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const root = process.getuid?.() === 0;
/** A uid that is not this process's. */
const OTHER = 65534;

describe("a node's private directory", () => {
  it("is created 0700, and an existing one of this user's is closed to 0700", () => {
    const d = join(dir, "mine", "data");
    ensurePrivateDir(d);
    expect(statSync(d).mode & 0o777).toBe(0o700);
    chmodSync(d, 0o755);
    ensurePrivateDir(d);
    expect(statSync(d).mode & 0o777).toBe(0o700);
  });

  it("is never a shared directory (sticky bit, like /tmp): refused, its mode left alone", () => {
    const shared = join(dir, "shared");
    mkdirSync(shared);
    chmodSync(shared, 0o1777);
    expect(() => ensurePrivateDir(shared)).toThrow(/shared one \(sticky bit/);
    expect(statSync(shared).mode & 0o7777).toBe(0o1777);
  });

  it.runIf(root)("is refused when another user owns it, or owns the link to it, and its mode is left alone", () => {
    const theirs = join(dir, "theirs");
    mkdirSync(theirs, { mode: 0o777 });
    chmodSync(theirs, 0o777);
    chownSync(theirs, OTHER, OTHER);
    expect(() => ensurePrivateDir(theirs)).toThrow(/belongs to uid 65534, not to this user/);
    expect(statSync(theirs).mode & 0o777).toBe(0o777);

    const target = join(dir, "target");
    mkdirSync(target);
    const link = join(dir, "planted");
    symlinkSync(target, link);
    lchownSync(link, OTHER, OTHER);
    expect(() => ensurePrivateDir(link)).toThrow(/\(a symbolic link\) belongs to uid 65534/);
  });

  it("a link of this user's own to a directory of its own is fine", () => {
    const target = join(dir, "own-target");
    mkdirSync(target);
    const link = join(dir, "own-link");
    symlinkSync(target, link);
    ensurePrivateDir(link);
    expect(statSync(target).mode & 0o777).toBe(0o700);
  });
});

describe("the token a node wrote for its port", () => {
  const write = (port: number, url: string) =>
    writeApiRuntime({ url, token: `token-of-${port}-0123456789`, pid: process.pid, node: "n" }, [
      discoveryFile(port, env),
    ]);

  it("is not sent to a loopback URL when the node listens on another address (that port on loopback is not it)", () => {
    write(4801, "http://10.1.2.3:4801");
    expect(localToken("http://127.0.0.1:4801", env)).toBeUndefined();
    expect(localToken("http://localhost:4801", env)).toBeUndefined();
    expect(localToken("http://[::1]:4801", env)).toBeUndefined();
    expect(localToken("http://10.1.2.3:4801", env)).toBe("token-of-4801-0123456789");
    expect(localToken("http://10.1.2.4:4801", env)).toBeUndefined();
  });

  it("is sent to a loopback URL when the node listens on loopback or on every address", () => {
    write(4802, "http://127.0.0.1:4802");
    expect(localToken("http://localhost:4802", env)).toBe("token-of-4802-0123456789");
    write(4803, "http://0.0.0.0:4803");
    expect(localToken("http://127.0.0.1:4803", env)).toBe("token-of-4803-0123456789");
    expect(localToken("http://example.com:4803", env)).toBeUndefined();
    write(4804, "http://[::]:4804");
    expect(localToken("http://[::1]:4804", env)).toBe("token-of-4804-0123456789");
  });

  it.runIf(root)("is not written into a directory another user owns", () => {
    const theirs = join(dir, "theirs-data");
    mkdirSync(theirs, { mode: 0o777 });
    chownSync(theirs, OTHER, OTHER);
    expect(() =>
      writeApiRuntime({ url: "http://127.0.0.1:1", token: "t".repeat(20), pid: process.pid, node: "n" }, [
        join(theirs, "api.json"),
      ]),
    ).toThrow(/belongs to uid 65534/);
  });
});
