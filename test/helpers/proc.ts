/** Runs `bin/amoc` as a real child process, with a hard timeout. */
import { spawn, type ChildProcess } from "node:child_process";
import { prosodyUrl } from "./endpoints.js";
import { until } from "./wait.js";

export const AMOC = new URL("../../bin/amoc", import.meta.url).pathname;

export interface ProcResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin/amoc args...`, feeding `input` on stdin; kills it after `timeoutMs`. */
export function amoc(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<ProcResult> {
  return new Promise((resolve, reject) => {
    // the test run's Prosody is the default server: with no shared servers up it listens on a free port, not 5222
    const env = {
      ...process.env,
      AMOC_LOG_LEVEL: "warn",
      AMOC_XMPP_SERVERS: process.env.AMOC_XMPP_SERVERS ?? prosodyUrl("xmpp"),
      ...opts.env,
    };
    const child = spawn(AMOC, args, { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `bin/amoc ${args.join(" ")} did not exit within ${opts.timeoutMs ?? 60_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, opts.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** `bin/amoc worker` processes started by `startWorkers`: their stderr so far, to show when something fails. */
export interface Workers {
  procs: ChildProcess[];
  errs: () => string[];
}

/**
 * Starts one `bin/amoc worker` per name with `envOf(name, index)` and waits until each says it joined its cluster.
 * Each process is also pushed to `owned`, so the file's afterAll kills it whatever happens.
 */
export async function startWorkers(
  names: string[],
  envOf: (name: string, k: number) => NodeJS.ProcessEnv,
  owned: ChildProcess[],
  timeoutMs = 60_000,
): Promise<Workers> {
  const errs = names.map(() => "");
  const procs = names.map((name, k) => {
    const p = spawn(AMOC, ["worker"], {
      env: { ...process.env, ...envOf(name, k) },
      stdio: ["ignore", "ignore", "pipe"],
    });
    owned.push(p);
    p.stderr.on("data", (d: Buffer) => (errs[k] += d.toString()));
    return p;
  });
  await until(() => errs.every((e) => /joined cluster/.test(e)), timeoutMs, `${names.length} workers joined`).catch(
    (e: Error) => {
      throw new Error(`${e.message}\n${errs.join("\n")}`);
    },
  );
  return { procs, errs: () => [...errs] };
}

/** The environment of node `name` in a test's NATS cluster, with warnings only, plus `extra`. */
export function clusterEnv(
  nats: { urls: string[] },
  cluster: string,
  name: string,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AMOC_NODE_NAME: name,
    AMOC_NATS_URL: nats.urls.join(","),
    AMOC_CLUSTER_NAME: cluster,
    AMOC_LOG_LEVEL: "warn",
    ...extra,
  };
}

/** Starts `bin/amoc worker` as `name`, its stderr shown prefixed with the name. */
export function spawnWorker(name: string, env: NodeJS.ProcessEnv): ChildProcess {
  const p = spawn(AMOC, ["worker"], { env, stdio: ["ignore", "ignore", "pipe"] });
  p.stderr?.on("data", (d: Buffer) => process.stderr.write(`[${name}] ${d.toString()}`));
  return p;
}

/** Starts `bin/amoc args...`, pushed to `owned` for the file's afterAll to kill, and collects its output. */
export function spawnAmoc(
  args: string[],
  env: NodeJS.ProcessEnv,
  owned: ChildProcess[],
): { p: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const p = spawn(AMOC, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  owned.push(p);
  let out = "";
  let err = "";
  p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  p.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((r) => p.on("close", (code) => r(code)));
  return { p, out: () => out, err: () => err, exit };
}
