/**
 * The REST API's token when the user gave none, as Jupyter keeps its server's: generated at start
 * (crypto.randomBytes(24), hex), written to two runtime files of mode 0600 and removed when the node closes:
 *   - `<data dir>/api.json` {url, token, pid, node}: next to the node's pid file and log;
 *   - `<dataRoot>/api/<port>.json` (a 0700 directory): how `bin/amoc status --url http://127.0.0.1:4000` on the same
 *     machine finds the token from the port alone.
 * Only the user who started the node can read them (the data root is the user's; the files are 0600). The token
 * is printed to the terminal that started the node, never to the pino log.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { dataRoot, ensurePrivateDir } from "./data-dir.js";

/** What the runtime files hold. */
export interface ApiRuntime {
  url: string;
  token: string;
  pid: number;
  node: string;
}

/** A fresh token: 24 random bytes, hex (48 characters). */
export function generateToken(): string {
  return randomBytes(24).toString("hex");
}

/** `<data dir>/api.json`. */
export function apiFile(dataDir: string): string {
  return join(dataDir, "api.json");
}

/** `<dataRoot>/api/<port>.json`: found from a URL's port. */
export function discoveryFile(port: number, env: NodeJS.ProcessEnv = process.env): string {
  return join(dataRoot(env), "api", `${port}.json`);
}

/** Writes `info` to each file (mode 0600, its directory 0700, atomically: temp file, fsync, rename). */
export function writeApiRuntime(info: ApiRuntime, files: string[]): void {
  for (const f of files) {
    ensurePrivateDir(dirname(f));
    const tmp = `${f}.${process.pid}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(info, null, 1)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, 0o600);
    renameSync(tmp, f);
  }
}

/** Removes the files this process wrote (a newer node on the same port may have replaced one: that one stays). */
export function removeApiRuntime(files: string[], pid = process.pid): void {
  for (const f of files) if (readApiRuntime(f)?.pid === pid) rmSync(f, { force: true });
}

/** Reads a runtime file; undefined when absent, unreadable, not ours or not private. */
export function readApiRuntime(file: string): ApiRuntime | undefined {
  try {
    const st = statSync(file);
    // a file another user could write, or that is not private, is not trusted (nor is its token sent anywhere)
    if ((st.mode & 0o077) !== 0 || (process.getuid && st.uid !== process.getuid())) return undefined;
    const x = JSON.parse(readFileSync(file, "utf8")) as Partial<ApiRuntime>;
    if (typeof x.token !== "string" || typeof x.url !== "string" || typeof x.pid !== "number") return undefined;
    return { url: x.url, token: x.token, pid: x.pid, node: String(x.node ?? "") };
  } catch {
    return undefined;
  }
}

/** Whether a process is alive (a file left by a killed node names a dead pid). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * The token of the local node serving `url`, from its discovery file; undefined when the URL's host is not this
 * machine (never send a local token to another host), no file names its port, or its node is gone.
 */
export function localToken(url: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const r = readApiRuntime(discoveryFile(Number(u.port || (u.protocol === "https:" ? 443 : 80)), env));
  if (!r || !alive(r.pid)) return undefined;
  const host = bareHost(u.hostname);
  let nodeHost: string;
  try {
    nodeHost = bareHost(new URL(r.url).hostname);
  } catch {
    return undefined;
  }
  // a loopback URL reaches the node only when it listens on loopback or on every address: a node on 10.0.0.5:4000
  // does not answer 127.0.0.1:4000, where another user's process may listen and would be handed the token
  if (isLoopbackHost(host)) return isLoopbackHost(nodeHost) || WILDCARD.has(nodeHost) ? r.token : undefined;
  // off loopback only the very address the node printed (e.g. it listens on 0.0.0.0): never send a token elsewhere
  return host === nodeHost ? r.token : undefined;
}

/** Addresses that listen on every interface (loopback included). */
const WILDCARD = new Set(["0.0.0.0", "::"]);

/** A URL's host name without IPv6 brackets, in lower case. */
function bareHost(h: string): string {
  return h.replace(/^\[|\]$/g, "").toLowerCase();
}

function isLoopbackHost(h: string): boolean {
  return h === "localhost" || h === "::1" || /^127\./.test(h);
}
