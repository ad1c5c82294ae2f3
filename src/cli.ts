/**
 * `bin/amoc`: dispatches argv to a command (one file each under src/api/commands/) and maps errors to exit codes.
 * Each command is imported only when it runs: loading every command (fastify, NATS, the REPL, ...) cost ~0.75 s of
 * CPU per `bin/amoc` call, loading one ~0.35 s, which adds up in scripts and tests that call it often.
 */
import { AmocError, ERROR_STATUS } from "./errors.js";

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "run":
      return (await import("./api/commands/run.js")).runCommand(rest);
    case "capacity":
      return (await import("./api/commands/capacity.js")).capacityCommand(rest);
    case "console":
      return (await import("./api/commands/console.js")).consoleCommand();
    case "worker": {
      const { parseProcs, workerProcsCommand } = await import("./api/commands/worker-procs.js");
      const procs = parseProcs(rest);
      return procs === undefined
        ? (await import("./api/commands/worker.js")).workerCommand()
        : workerProcsCommand(procs);
    }
    case "scenarios":
      return (await import("./api/commands/scenarios.js")).scenariosCommand();
    case "start":
      return (await import("./api/commands/start.js")).startCommand(rest);
    case "attach":
      return (await import("./api/commands/attach.js")).attachCommand(rest);
    case "stop":
      return (await import("./api/commands/stop.js")).stopCommand(rest);
    case "status":
      return (await import("./api/commands/status.js")).statusCommand(rest);
    case "eval":
      return (await import("./api/commands/eval.js")).evalCommand(rest);
    case "list":
      return (await import("./api/commands/list.js")).listCommand(rest);
    case "upload":
      return (await import("./api/commands/upload.js")).uploadCommand(rest);
    case "new":
      return (await import("./api/commands/new.js")).newCommand(rest);
    case "runs":
      return (await import("./api/commands/runs.js")).runsCommand(rest);
    case "report":
      return (await import("./api/commands/report.js")).reportCommand(rest);
    case "__daemon":
      return (await import("./api/attach/daemon-main.js")).runDaemon(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      return (await import("./api/commands/help.js")).helpCommand();
    default: {
      const { USAGE } = await import("./api/commands/help.js");
      process.stderr.write(`amoc: unknown command '${cmd}'\n${USAGE}\n`);
      return 2;
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // users' sockets and timers must not keep a finished command alive
    setTimeout(() => process.exit(code), 200).unref();
  },
  (e: unknown) => {
    if (e instanceof AmocError) {
      process.stderr.write(`amoc: ${e.describe()}\n`);
      process.exit(ERROR_STATUS[e.code].exit);
    }
    process.stderr.write(`amoc: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
