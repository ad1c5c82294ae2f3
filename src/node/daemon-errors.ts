/** Errors of detached nodes: not running (exit 3, usable as a health check) and running but not answering. */
import { AmocError } from "../errors.js";

/** No live node under that name: `attach`, `status`, `stop` and `eval` exit 3. */
export class NodeNotRunningError extends AmocError {
  constructor(name: string, dir: string, nameFlag: string) {
    super(
      "NODE_NOT_RUNNING",
      `node ${name} is not running (data directory ${dir})`,
      `start it with bin/amoc start${nameFlag}; bin/amoc list shows the nodes started on this machine`,
    );
  }
}

/** The node's process lives but its attach socket does not answer. */
export class NodeUnresponsiveError extends AmocError {
  constructor(name: string, pid: number, why: string, nameFlag: string) {
    super(
      "NODE_UNRESPONSIVE",
      `node ${name} (pid ${pid}) does not answer on its socket: ${why}`,
      `see its log; bin/amoc stop --force${nameFlag} kills it`,
    );
  }
}
