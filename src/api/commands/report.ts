/** `amoc report ID [-o file.html]`: writes the HTML report of a recorded run, read through the node's history. */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { UsageError } from "../../errors.js";
import { openHistory } from "../../node/history.js";

export const REPORT_USAGE = `usage: amoc report ID [-o FILE.html]
  writes the HTML report of a recorded run (default file: amoc-report-<id>.html); one self-contained file that
  opens offline. ID: a run id, a unique prefix, 'last' or 'last~N' (bin/amoc runs lists them)`;

/** Writes the report and says where; returns the exit code. */
export async function reportCommand(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { output: { type: "string", short: "o" }, help: { type: "boolean", short: "h" } },
    });
  } catch (e) {
    throw new UsageError((e as Error).message, REPORT_USAGE);
  }
  if (parsed.values.help) {
    out.write(REPORT_USAGE + "\n");
    return 0;
  }
  if (parsed.positionals.length !== 1)
    throw new UsageError(
      parsed.positionals.length ? `one run id expected, got ${parsed.positionals.join(" ")}` : "missing run ID",
      REPORT_USAGE,
    );
  const history = openHistory(env);
  try {
    const ref = parsed.positionals[0] as string;
    // the run's own id names the default file ('last' or a prefix would not say which run it holds)
    const { run } = await history.runResults(ref);
    const file = parsed.values.output ?? `amoc-report-${run.id}.html`;
    writeFileSync(file, await history.report(run.id));
    out.write(`${file}\n`);
  } finally {
    await history.close();
  }
  return 0;
}
