/** `amoc run`: one non-interactive run (local or `--dist`), then the summary on stdout. */
import { createNode } from "../../node/amoc-node.js";
import { formatSummary, parseRunArgs, runLocal, RUN_USAGE } from "../run-command.js";
import { runDist } from "../run-dist.js";
import { closeQuietly } from "./close-quietly.js";

/** Runs, prints the summary (JSON with --json) and returns the exit code. */
export async function runCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(RUN_USAGE + "\n");
    return 0;
  }
  const opts = parseRunArgs(args);
  const node = createNode({ defaults: { log_level: "warn" } });
  try {
    const io = { err: process.stderr, isTTY: process.stderr.isTTY === true };
    const { summary, exitCode } = opts.dist ? await runDist(node, opts, io) : await runLocal(node, opts, io);
    process.stdout.write(opts.json ? JSON.stringify(summary) + "\n" : formatSummary(summary) + "\n");
    return exitCode;
  } finally {
    await closeQuietly(node);
  }
}
