/**
 * A node's data directory: where a detached node keeps its pid file, log, attach socket and metadata (and the run
 * store and uploaded sources, owned elsewhere). `settings.data_dir` / `AMOC_DATA_DIR` names it; by default it is
 * `<run dir>/amoc/<node name>`, the run dir being `AMOC_RUN_DIR` or `<project>/.run` (as scripts/servers.sh uses).
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { RUN_STORE_FILE } from "../results/store-types.js";

/** The node name `start`, `attach`, `stop`, ... use when neither `--name` nor `AMOC_NODE_NAME` gives one. */
export const DEFAULT_NODE_NAME = "amoc";

/** The project root (where `bin/amoc` lives). */
export const PROJECT_ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** Unix socket paths longer than this fail to bind on Linux (sun_path is 108 bytes, NUL included). */
const MAX_SOCKET_PATH = 107;

/** The files of one node's data directory. */
export interface DataDir {
  name: string;
  dir: string;
  /** `"<pid> <start time>"`: the start time (from /proc) tells a live node from a reused pid. */
  pidFile: string;
  /** The node's own log (pino lines, and anything the process writes to stdout/stderr). */
  logFile: string;
  /** The attach socket (mode 0600). */
  socketPath: string;
  /** `node.json`: name, pid, role, start time, written by the node once it serves. */
  metaFile: string;
}

/** What a detached node records about itself in `node.json`. */
export interface NodeMeta {
  name: string;
  pid: number;
  role: "console" | "worker";
  started_at: string;
  log: string;
  socket: string;
}

/** Node names as the cluster accepts them. */
export function checkNodeName(name: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(name))
    throw new UsageError(`invalid node name '${name}'`, "node names use letters, digits, '_' and '-' only");
  return name;
}

/** The directory under which default data directories live: `<AMOC_RUN_DIR or <project>/.run>/amoc`. */
export function dataRoot(env: NodeJS.ProcessEnv = process.env): string {
  const run = env.AMOC_RUN_DIR ? resolve(env.AMOC_RUN_DIR) : join(PROJECT_ROOT, ".run");
  return join(run, "amoc");
}

/**
 * The run store's file: `<data_dir>/runs.sqlite` when `data_dir` is set, else `<run dir>/amoc/runs.sqlite`. (The
 * default data directory is per node name, and `amoc run`'s default node name holds its pid, so the history of
 * one-off runs would scatter; their shared parent keeps it in one place.)
 */
export function runStorePath(dataDir: string, env: NodeJS.ProcessEnv = process.env): string {
  return dataDir ? join(resolve(dataDir), RUN_STORE_FILE) : join(dataRoot(env), RUN_STORE_FILE);
}

/** A node's data directory from its settings (the rule `dataDirFor` follows, in the form cluster/ shares). */
export { nodeDataDir } from "../cluster/scenario-store.js";

/** The data directory of node `name`: `dataDir` when set (settings.data_dir), else `<dataRoot>/<name>`. */
export function dataDirFor(name: string, dataDir = "", env: NodeJS.ProcessEnv = process.env): DataDir {
  checkNodeName(name);
  const dir = dataDir ? (isAbsolute(dataDir) ? dataDir : resolve(dataDir)) : join(dataRoot(env), name);
  const d: DataDir = {
    name,
    dir,
    pidFile: join(dir, "node.pid"),
    logFile: join(dir, "node.log"),
    socketPath: join(dir, "attach.sock"),
    metaFile: join(dir, "node.json"),
  };
  if (Buffer.byteLength(d.socketPath) > MAX_SOCKET_PATH) {
    throw new UsageError(
      `the attach socket path ${d.socketPath} is longer than ${MAX_SOCKET_PATH} bytes`,
      "use a shorter AMOC_DATA_DIR (or AMOC_RUN_DIR)",
    );
  }
  return d;
}

/** Creates the directory (and parents) if needed; the directory itself is private to the user (0700). */
export function ensureDataDir(d: DataDir): void {
  ensurePrivateDir(d.dir);
}

/**
 * Creates `dir` (and parents) if needed and makes it private to this user (0700) — but only a directory of this
 * user's own: one owned by another user (made, or linked to, by someone else in a shared place such as /tmp) is
 * refused, since its owner could swap the pid file, socket or token file in it; and a shared directory (sticky bit,
 * such as /tmp itself) is refused rather than closed to everyone else.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const uid = process.getuid?.();
  if (uid !== undefined) {
    const link = lstatSync(dir);
    const st = statSync(dir);
    if (link.uid !== uid || st.uid !== uid)
      throw new UsageError(
        `the directory ${dir}${link.isSymbolicLink() ? " (a symbolic link)" : ""} belongs to uid ${link.uid !== uid ? link.uid : st.uid}, not to this user (uid ${uid}): its owner could replace the node's files in it`,
        "use a directory of your own (AMOC_DATA_DIR, AMOC_RUN_DIR), or remove that one",
      );
    if (!st.isDirectory()) throw new UsageError(`${dir} is not a directory`, "use a directory of your own");
    if (st.mode & 0o1000)
      throw new UsageError(
        `the directory ${dir} is a shared one (sticky bit, like /tmp): a node's directory is private (0700)`,
        "use a directory of its own below it (e.g. AMOC_DATA_DIR=/tmp/amoc-data)",
      );
  }
  chmodSync(dir, 0o700);
}

/** Reads `node.json`, or undefined when absent or unreadable. */
export function readMeta(d: DataDir): NodeMeta | undefined {
  try {
    return JSON.parse(readFileSync(d.metaFile, "utf8")) as NodeMeta;
  } catch {
    return undefined;
  }
}

/** Data directories of nodes started on this machine: every `<dataRoot>/<name>` holding a pid file, plus `extraDir`. */
export function listDataDirs(env: NodeJS.ProcessEnv = process.env, extraDir = ""): DataDir[] {
  const root = dataRoot(env);
  const found: DataDir[] = [];
  if (existsSync(root)) {
    for (const name of readdirSync(root).sort()) {
      if (!/^[A-Za-z0-9_-]+$/.test(name)) continue;
      const d = dataDirFor(name, "", env);
      if (statSync(d.dir).isDirectory() && existsSync(d.pidFile)) found.push(d);
    }
  }
  if (extraDir) {
    const dir = resolve(extraDir);
    if (!found.some((d) => d.dir === dir) && existsSync(join(dir, "node.pid"))) {
      const d = dataDirFor(DEFAULT_NODE_NAME, dir, env);
      found.push({ ...d, name: readMeta(d)?.name ?? d.name });
    }
  }
  return found;
}
