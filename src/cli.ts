/** `bin/amoc`: dispatches argv to a command (one file each under src/api/commands/) and maps errors to exit codes. */
import { consoleCommand } from "./api/commands/console.js";
import { helpCommand, USAGE } from "./api/commands/help.js";
import { runCommand } from "./api/commands/run.js";
import { scenariosCommand } from "./api/commands/scenarios.js";
import { workerCommand } from "./api/commands/worker.js";
import { parseProcs, workerProcsCommand } from "./api/commands/worker-procs.js";
import { runDaemon } from "./api/attach/daemon-main.js";
import { attachCommand } from "./api/commands/attach.js";
import { evalCommand } from "./api/commands/eval.js";
import { listCommand } from "./api/commands/list.js";
import { startCommand } from "./api/commands/start.js";
import { statusCommand } from "./api/commands/status.js";
import { stopCommand } from "./api/commands/stop.js";
import { uploadCommand } from "./api/commands/upload.js";
import { runsCommand } from "./api/commands/runs.js";
import { reportCommand } from "./api/commands/report.js";
import { AmocError, ERROR_STATUS } from "./errors.js";

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "run":
      return runCommand(rest);
    case "console":
      return consoleCommand();
    case "worker": {
      const procs = parseProcs(rest);
      return procs === undefined ? workerCommand() : workerProcsCommand(procs);
    }
    case "scenarios":
      return scenariosCommand();
    case "start":
      return startCommand(rest);
    case "attach":
      return attachCommand(rest);
    case "stop":
      return stopCommand(rest);
    case "status":
      return statusCommand(rest);
    case "eval":
      return evalCommand(rest);
    case "list":
      return listCommand(rest);
    case "upload":
      return uploadCommand(rest);
    case "runs":
      return runsCommand(rest);
    case "report":
      return reportCommand(rest);
    case "__daemon":
      return runDaemon(rest);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      return helpCommand();
    default:
      process.stderr.write(`amoc: unknown command '${cmd}'\n${USAGE}\n`);
      return 2;
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
