/** `amoc run`: one non-interactive run (local or `--dist`), then the summary on stdout. */
import { existsSync } from "node:fs";
import { configFilePath, envValue, readConfigFile } from "../../config/load.js";
import { createNode } from "../../node/amoc-node.js";
import { formatRunEnd, formatSummary } from "../format.js";
import { RESULTS_USAGE, runSignals, splitResultsArgs } from "../run/flags.js";
import { defaultRepeat, parseRunArgs, RUN_USAGE } from "../run/options.js";
import { runOnNode } from "../run/run.js";
import { closeQuietly } from "./close-quietly.js";

/** Runs, prints the summary (JSON with --json) and returns the run's exit code. */
export async function runCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(RUN_USAGE + "\n" + RESULTS_USAGE + "\n");
    return 0;
  }
  const { rest, results } = splitResultsArgs(args);
  const opts = defaultRepeat(parseRunArgs(rest), repeatGivenElsewhere(process.env));
  const node = createNode({
    defaults: { log_level: "warn" },
    overrides: opts.logFormat ? { log_format: opts.logFormat } : undefined,
    oneShot: true,
  });
  const signals = runSignals();
  try {
    const io = { err: process.stderr, isTTY: process.stderr.isTTY === true, signals: signals.emitter };
    // the node's run service records the run; its thresholds (the config file's, then --threshold's), --report and
    // --junit are judged at its end, which the stop replies with
    const { end } = await runOnNode(node, opts, results, io);
    process.stdout.write(
      opts.json
        ? JSON.stringify({ ...end.summary, run_id: end.run_id, verdict: end.verdict, thresholds: end.thresholds }) +
            "\n"
        : formatSummary(end.summary) + "\n",
    );
    process.stderr.write(formatRunEnd(end) + "\n");
    return end.exit_code;
  } finally {
    signals.dispose();
    await closeQuietly(node);
  }
}

/** Whether repeat_num is set outside the command line: AMOC_REPEAT_NUM or the config file. */
function repeatGivenElsewhere(env: NodeJS.ProcessEnv): boolean {
  if (envValue(env, "repeat_num") !== undefined) return true;
  const file = configFilePath(env);
  return file !== undefined && existsSync(file) && "repeat_num" in readConfigFile(file).settings;
}
