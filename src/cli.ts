/** `bin/amoc`: argv to commands (console, run, worker, help); maps errors to exit codes. */
import { runConsole } from "./api/console.js";
import { distApi, lazyMaster, nodesApi } from "./api/dist-api.js";
import { runDist } from "./api/run-dist.js";
import { joinCluster } from "./cluster/cluster-node.js";
import { formatSummary, parseRunArgs, runLocal, RUN_USAGE } from "./api/run-command.js";
import { describeSettings } from "./config/load.js";
import { AmocError, ERROR_STATUS } from "./errors.js";
import { flushLog } from "./log.js";
import { createNode, type AmocNode } from "./main.js";
import { listScenarios } from "./scenario/loader.js";

const USAGE = `usage: amoc <command>
  console                 interactive node: amoc_local.do('dummy', 1, 10), help()
  run SCENARIO --users N  one non-interactive run, then a summary (amoc run --help; --dist for a cluster run)
  worker                  a cluster worker: joins NATS (AMOC_NATS_URL) and runs the users masters deal it
  scenarios               list the scenarios
  help                    this text and every setting (env AMOC_<NAME>)`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "run":
      return runCommand(rest);
    case "console":
      return consoleCommand();
    case "worker":
      return workerCommand();
    case "scenarios": {
      const node = createNode({ defaults: { log_level: "warn" } });
      process.stdout.write(listScenarios(node.settings.scenarios_dir).join("\n") + "\n");
      return 0;
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(`${USAGE}\n\n${RUN_USAGE}\n\nsettings (env, or config/default.json, or per run):\n${describeSettings()}\n`);
      return 0;
    default:
      process.stderr.write(`amoc: unknown command '${cmd}'\n${USAGE}\n`);
      return 2;
  }
}

async function runCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(RUN_USAGE + "\n");
    return 0;
  }
  const opts = parseRunArgs(args);
  const node = createNode({ defaults: { log_level: "warn" } });
  try {
    const progress = process.stderr.isTTY ? process.stderr : undefined;
    const { summary, exitCode } = opts.dist ? await runDist(node, opts, progress) : await runLocal(node, opts, progress);
    process.stdout.write(opts.json ? JSON.stringify(summary) + "\n" : formatSummary(summary) + "\n");
    return exitCode;
  } finally {
    await closeQuietly(node);
  }
}

async function consoleCommand(): Promise<number> {
  const interactive = process.stdin.isTTY === true;
  // interactive logs would garble the prompt: they go to a file unless AMOC_LOG_FILE says otherwise
  const node = createNode({ defaults: interactive ? { log_file: ".run/log/console.log" } : { log_level: "warn" } });
  try {
    const master = lazyMaster(node);
    await runConsole(node, { input: process.stdin, output: process.stdout, terminal: interactive }, { amoc_dist: distApi(master), nodes: nodesApi(master) });
  } finally {
    await closeQuietly(node);
  }
  return 0;
}

async function workerCommand(): Promise<number> {
  const node = createNode({ announce: false });
  const cluster = await joinCluster(node, "worker");
  node.onClose(() => cluster.close());
  process.stderr.write(`amoc worker ${node.settings.node_name} joined cluster '${node.settings.cluster_name}' at ${node.settings.nats_url.join(",")}\n`);
  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  await closeQuietly(node);
  return 0;
}

async function closeQuietly(node: AmocNode): Promise<void> {
  try {
    await node.close();
  } catch (e) {
    node.log.error({ msg: "close_failed", err: (e as Error).message });
    flushLog(node.log);
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
