/** `amoc console`: a REPL over the Node API. Works on a TTY and with piped stdin; lines run one at a time. */
import repl from "node:repl";
import { inspect } from "node:util";
import { AmocError } from "../../errors.js";
import type { AmocNode } from "../../node/amoc-node.js";
import { nodeApis } from "../../node/apis.js";
import type { NodeApi } from "../../node/node-api.js";
import { formatRunEnd } from "../format.js";
import { distApi, nodesApi } from "./dist-binding.js";
import { localApi, Printed } from "./local-binding.js";
import { evalWithAwait, isIncomplete } from "./top-level-await.js";

/** Extra objects a console exposes. */
export type ConsoleExtras = Record<string, unknown>;

/** The APIs a console drives: this node's, and the cluster's (optional). */
export interface ConsoleApis {
  local: NodeApi;
  dist?: NodeApi;
}

/** How the console ends: "stop-run" stops a local run on exit (bin/amoc console); "detach" leaves it running (attach). */
export interface ConsoleOptions {
  onExit: "stop-run" | "detach";
  extras?: ConsoleExtras;
}

/** The console's streams. */
export interface ConsoleIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  terminal: boolean;
}

const HELP = `amoc console
  amoc_local.do(scenario, from, to, settings?)   start users from..to (settings: {interarrival: 0, var: value})
  amoc_local.add(n)                             add n users after the highest ID issued
  amoc_local.remove(n, {force: true})           remove the n highest running users (force: abort them now)
  amoc_local.status()                           state, user counts, settings, errors (also: status())
  amoc_local.update_settings({var: value})      change updatable scenario variables live
  amoc_local.stop()                             stop every user and call terminate (also: stop())
  amoc_local.scenarios()                        scenarios you can run (Tab completes names in do(...))
  amoc_local.capacity(scenario, {slos: ['xmpp.connection.p99<1000'], start, step, hold: '30s', max, by, refine})
      a capacity search (docs/capacity.md); capacity_status(), capacity_wait(), capacity_stop() (amoc_dist too)
  amoc_dist.do(scenario, from, to, {settings, nodes, labels, comment})   deal users round-robin over the workers
  amoc_dist.add(n, opts?) / amoc_dist.remove(n, {force, nodes}) / amoc_dist.status() / amoc_dist.stop()
  amoc_dist.update_settings({var: value}, opts?) cluster-wide; every result is per node
  amoc_dist.throttle.change_rate('msg', {rate: 1000, interval: 1000})   also start, change_rate_gradually(name,
      from, to, overMs, steps), pause, resume, stop, list (amoc_local.throttle too): cluster-wide rates
  do(..., {stages: [{duration: '60s', target: 1000}]}) / {arrival_rate: [...]} / {mix: {one_to_one: 3, muc: 1}}
  nodes()                                       live cluster nodes (joins NATS at AMOC_NATS_URL on first use)
  sleep(ms)                                     wait (for scripts piped into the console)
  const s = await amoc_local.status_raw()       top-level await works; declarations stay visible
  help()                                        this text
Ctrl+D or .exit stops the users, calls terminate and exits.`;

function isNode(t: AmocNode | ConsoleApis): t is AmocNode {
  return "controller" in t;
}

/** Opens the console on the given streams; resolves when the input ends (after stopping the run, for "stop-run"). */
export async function runConsole(
  target: AmocNode | ConsoleApis,
  io: ConsoleIo,
  opts: ConsoleOptions = { onExit: "stop-run" },
): Promise<void> {
  const apis: ConsoleApis = isNode(target) ? nodeApis(target) : target;
  const local = apis.local;
  let queue: Promise<void> = Promise.resolve();
  const useColors = io.terminal;
  const show = (v: unknown): string =>
    typeof v === "string" ? v : inspect(v, { depth: 6, colors: useColors, breakLength: 100 });

  const evaluate: repl.REPLEval = (cmd, context, _file, cb) => {
    // serialize: a piped script's next line runs only after the previous result (awaited) was printed
    queue = queue.then(async () => {
      let result: unknown;
      try {
        result = evalWithAwait(cmd, context);
      } catch (e) {
        if (isIncomplete(e)) return cb(new repl.Recoverable(e as Error), undefined);
        return cb(null, new Printed(describeError(e)));
      }
      try {
        if (result && typeof (result as Promise<unknown>).then === "function")
          result = await (result as Promise<unknown>);
        cb(null, result);
      } catch (e) {
        cb(null, new Printed(describeError(e)));
      }
    });
  };

  // the banner before the REPL starts: it writes its first prompt at once
  if (io.terminal) io.output.write(`amoc-ts node ${local.nodeName}; help() lists the commands\n`);
  const server = repl.start({
    prompt: io.terminal ? "amoc> " : "",
    input: io.input,
    output: io.output,
    terminal: io.terminal,
    eval: evaluate,
    writer: show,
    ignoreUndefined: true,
    useColors,
  });
  const amocLocal = localApi(local);
  Object.assign(server.context, {
    amoc_local: amocLocal,
    status: amocLocal.status,
    stop: amocLocal.stop,
    help: () =>
      new Printed(
        opts.onExit === "detach"
          ? HELP.replace(
              /Ctrl\+D or \.exit .*$/,
              "Ctrl+D or .exit detaches: the node and its run keep going (bin/amoc stop stops the node).",
            )
          : HELP,
      ),
    sleep: (ms: number) => new Promise((r) => setTimeout(r, ms)),
    ...(apis.dist ? { amoc_dist: distApi(apis.dist), nodes: nodesApi(apis.dist) } : {}),
    ...opts.extras,
  });
  installScenarioCompletion(server, local);

  await new Promise<void>((resolve) => server.on("exit", () => resolve()));
  await queue;
  if (opts.onExit === "detach") return;
  const before = await local.nodeStatus(local.nodeName);
  if (before.state === "running") {
    const { run } = await local.stop();
    // the users this stop took down, not every removal of the run
    const u = before.users;
    const cancelled = u.pending ? `, ${u.pending} planned starts cancelled` : "";
    io.output.write(
      `stopped: ${u.running - u.removing} running users removed${u.removing ? ` (and ${u.removing} already being removed)` : ""}${cancelled}, terminate called\n` +
        (run ? `${formatRunEnd(run)}\n` : ""),
    );
  }
}

/** Tab after `do('` or `do("` completes scenario names; everything else keeps the REPL's completion. */
function installScenarioCompletion(server: repl.REPLServer, api: NodeApi): void {
  const fallback = server.completer.bind(server);
  const completer = (line: string, cb: (err: Error | null, result: [string[], string]) => void): void => {
    const m = /\.do\(\s*['"]([\w-]*)$/.exec(line);
    if (!m) return void fallback(line, cb as never);
    const prefix = m[1] ?? "";
    api.scenarios().then(
      (list) => cb(null, [list.map((s) => s.name).filter((n) => n.startsWith(prefix)), prefix]),
      () => cb(null, [[], prefix]),
    );
  };
  (server as unknown as { completer: typeof completer }).completer = completer;
}

function describeError(e: unknown): string {
  if (e instanceof AmocError) return `error: ${e.describe()}`;
  // errors thrown by console code come from the REPL context's realm: not `instanceof Error` here
  if (e instanceof Error || (typeof e === "object" && e !== null && typeof (e as Error).message === "string"))
    return `error: ${(e as Error).message}`;
  return `error: ${String(e)}`;
}
