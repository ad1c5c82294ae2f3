/** `amoc console`: a REPL over the node API. Works on a TTY and with piped stdin; lines run one at a time. */
import repl from "node:repl";
import { inspect } from "node:util";
import vm from "node:vm";
import { AmocError } from "../errors.js";
import type { AmocNode } from "../main.js";
import { listScenarios } from "../scenario/loader.js";
import { formatStatus } from "./format.js";

/** Extra objects a console exposes (the cluster adds `amoc_dist` and `nodes`). */
export type ConsoleExtras = Record<string, unknown>;

const HELP = `amoc console
  amoc_local.do(scenario, from, to, settings?)   start users from..to (settings: {interarrival: 0, var: value})
  amoc_local.add(n)                             add n users after the highest ID issued
  amoc_local.remove(n, {force: true})           remove the n highest running users (force: abort them now)
  amoc_local.status()                           state, user counts, settings, errors
  amoc_local.update_settings({var: value})      change updatable scenario variables live
  amoc_local.stop()                             stop every user and call terminate
  amoc_local.scenarios()                        scenarios you can run (Tab completes names in do(...))
  amoc_dist.do(scenario, from, to, {settings, nodes, labels, comment})   deal users round-robin over the workers
  amoc_dist.add(n, opts?) / amoc_dist.remove(n, {force, nodes}) / amoc_dist.status() / amoc_dist.stop()
  amoc_dist.update_settings({var: value}, opts?) cluster-wide; every result is per node
  nodes()                                       live cluster nodes (joins NATS at AMOC_NATS_URL on first use)
  sleep(ms)                                     wait (for scripts piped into the console)
  help()                                        this text
Ctrl+D or .exit stops the users, calls terminate and exits.`;

/** A printable wrapper: the REPL shows `text` as is instead of an inspected object. */
class Printed {
  constructor(readonly text: string) {}
  [inspect.custom](): string {
    return this.text;
  }
}

/** The `amoc_local` object: the local node API, every result printable. */
export function localApi(node: AmocNode): Record<string, unknown> {
  const c = node.controller;
  return {
    do: (name: string, from: number, to: number, settings?: Record<string, unknown>) => c.do(name, from, to, settings),
    add: (n: number) => c.add(n),
    remove: (n: number, opts?: { force?: boolean }) => {
      const r = c.remove(n, opts);
      return r.removed < r.requested ? { ...r, note: `only ${r.removed} running users could be selected` } : r;
    },
    status: () => {
      const s = c.status();
      return Object.assign(new Printed(formatStatus(s)), { raw: s });
    },
    status_raw: () => c.status(),
    stop: async () => new Printed(formatStatus(await c.stop())),
    update_settings: (s: Record<string, unknown>) => c.updateSettings(s),
    scenarios: () => listScenarios(node.settings.scenarios_dir),
  };
}

/** Opens the console on the given streams; resolves after the node has stopped. */
export async function runConsole(node: AmocNode, io: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream; terminal: boolean }, extras: ConsoleExtras = {}): Promise<void> {
  let queue: Promise<void> = Promise.resolve();
  const useColors = io.terminal;
  const show = (v: unknown): string => (typeof v === "string" ? v : inspect(v, { depth: 6, colors: useColors, breakLength: 100 }));

  const evaluate: repl.REPLEval = (cmd, context, _file, cb) => {
    // serialize: a piped script's next line runs only after the previous result (awaited) was printed
    queue = queue.then(async () => {
      let result: unknown;
      try {
        result = vm.runInContext(cmd, context, { filename: "amoc-console" });
      } catch (e) {
        if (e instanceof SyntaxError && /Unexpected end of input|missing \) after/.test(e.message)) return cb(new repl.Recoverable(e), undefined);
        return cb(null, new Printed(describeError(e)));
      }
      try {
        if (result && typeof (result as Promise<unknown>).then === "function") result = await (result as Promise<unknown>);
        cb(null, result);
      } catch (e) {
        cb(null, new Printed(describeError(e)));
      }
    });
  };

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
  Object.assign(server.context, {
    amoc_local: localApi(node),
    help: () => new Printed(HELP),
    sleep: (ms: number) => new Promise((r) => setTimeout(r, ms)),
    ...extras,
  });
  installScenarioCompletion(server, () => listScenarios(node.settings.scenarios_dir));
  if (io.terminal) io.output.write(`amoc-ts node ${node.settings.node_name}; help() lists the commands\n`);

  await new Promise<void>((resolve) => server.on("exit", () => resolve()));
  await queue;
  const state = node.controller.state;
  if (state === "running") {
    const s = await node.controller.stop();
    io.output.write(`stopped: ${s.users.removed} users removed, terminate called\n`);
  }
}

/** Tab after `do('` or `do("` completes scenario names; everything else keeps the REPL's completion. */
function installScenarioCompletion(server: repl.REPLServer, names: () => string[]): void {
  const fallback = server.completer.bind(server);
  const completer = (line: string, cb: (err: Error | null, result: [string[], string]) => void): void => {
    const m = /\.do\(\s*['"]([\w-]*)$/.exec(line);
    if (!m) return void fallback(line, cb as never);
    const prefix = m[1] ?? "";
    cb(null, [names().filter((n) => n.startsWith(prefix)), prefix]);
  };
  (server as unknown as { completer: typeof completer }).completer = completer;
}

function describeError(e: unknown): string {
  if (e instanceof AmocError) return `error: ${e.describe()}`;
  if (e instanceof Error) return `error: ${e.message}`;
  return `error: ${String(e)}`;
}
