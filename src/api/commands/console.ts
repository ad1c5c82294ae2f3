/** `amoc console`: an interactive node on this terminal (or a script piped to stdin). */
import { createNode } from "../../node/amoc-node.js";
import { envValue } from "../../config/load.js";
import { nodeApis } from "../../node/apis.js";
import { runConsole } from "../console/console.js";
import { startNodeRest } from "../rest/node-rest.js";
import { closeQuietly } from "./close-quietly.js";

/** Runs the console until stdin ends; the run in progress is stopped on exit. */
export async function consoleCommand(): Promise<number> {
  const interactive = process.stdin.isTTY === true;
  // interactive logs would garble the prompt: they go to a file unless AMOC_LOG_FILE says otherwise
  const node = createNode({ defaults: interactive ? { log_file: ".run/log/console.log" } : { log_level: "warn" } });
  try {
    // console and REST runs go through the node's run service: recorded in its run store (bin/amoc runs)
    const apis = nodeApis(node);
    await startNodeRest(node, envValue(node.env, "nats_url") ? apis.dist : apis.local);
    await runConsole(
      apis,
      { input: process.stdin, output: process.stdout, terminal: interactive },
      { onExit: "stop-run" },
    );
  } finally {
    await closeQuietly(node);
  }
  return 0;
}
