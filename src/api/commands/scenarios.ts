/** `amoc scenarios`: the scenarios this node can run. */
import { createNode } from "../../node/amoc-node.js";
import { nodeApis } from "../../node/apis.js";
import { closeQuietly } from "./close-quietly.js";

/** Lists the scenario names, one a line. */
export async function scenariosCommand(): Promise<number> {
  const node = createNode({ defaults: { log_level: "warn" }, oneShot: true });
  try {
    const list = await nodeApis(node).local.scenarios();
    process.stdout.write(list.map((s) => s.name).join("\n") + "\n");
    return 0;
  } finally {
    await closeQuietly(node);
  }
}
