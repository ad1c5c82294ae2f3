/** Closing a node at the end of a command: a failure to release something is logged, never hides the exit code. */
import { flushLog } from "../../log.js";
import type { AmocNode } from "../../node/amoc-node.js";

/** Closes the node, logging (not throwing) a failure. */
export async function closeQuietly(node: AmocNode): Promise<void> {
  try {
    await node.close();
  } catch (e) {
    node.log.error({ msg: "close_failed", err: (e as Error).message });
    flushLog(node.log);
  }
}
