/** `amoc help`: the commands, the run options and every setting. */
import { describeSettings } from "../../config/load.js";
import { RESULTS_USAGE } from "../run/flags.js";
import { RUN_USAGE } from "../run/options.js";

/** One line per command; other commands add theirs here. */
export const USAGE = `usage: amoc <command>
  console                 interactive node: amoc_local.do('dummy', 1, 10), help()
  run SCENARIO --users N  one non-interactive run, then a summary (amoc run --help; --dist for a cluster run)
  capacity SCENARIO --slo EXPR  step search for the users a server holds (amoc capacity --help)
  worker [--procs N]      a cluster worker: joins NATS (AMOC_NATS_URL) and runs the users masters deal it;
                          --procs N: N worker processes <node name>-1..N under one supervising parent
  start [--name N]        a node in the background (--worker: a cluster worker); logs to .run/amoc/N/node.log
  attach [--name N]       the console of a started node; Ctrl+D or .exit detaches, the node keeps running
  stop [--name N]         stops a started node gracefully (--force: kill it after --timeout S)
  status [--name N]       state and users of a started node (--json); exit 3 when it is not running
  eval [--name N] EXPR    one console expression on a started node, e.g. 'amoc_local.status()'
  list                    the nodes started on this machine
  scenarios               list the scenarios
  new NAME                write NAME.ts here: a commented starter scenario that runs as is
  upload FILE [--url U]   upload a scenario to a node's REST API (--name N, --token-file F); every node of its cluster gets it
  runs [show ID | compare A B]  the recorded runs; one run's metrics; two runs side by side with regressions
  report ID [-o FILE]     the HTML report of a recorded run (one self-contained file)
  help                    this text and every setting (env AMOC_<NAME>)`;

/** The usage, the run options (results flags included) and every setting. */
export function helpText(): string {
  return `${USAGE}\n\n${RUN_USAGE}\n${RESULTS_USAGE}\n\nsettings (env, or config/default.json, or per run):\n${describeSettings()}\n`;
}

/** Prints `helpText`. */
export async function helpCommand(): Promise<number> {
  process.stdout.write(helpText());
  return 0;
}
