/** Typed errors: every failure a user can cause carries a stable `code` and a `hint` saying what to do. */

/** Every error code amoc-ts raises on purpose. */
export type ErrorCode =
  | "CONFIG_INVALID"
  | "USAGE"
  | "SCENARIO_NOT_FOUND"
  | "SCENARIO_INVALID"
  | "SCENARIO_INIT_FAILED"
  | "VARIABLE_UNDECLARED"
  | "VARIABLE_INVALID"
  | "VARIABLE_READ_ONLY"
  | "STATE_INVALID"
  | "USER_ABORTED"
  | "TIMEOUT"
  | "XMPP_CONNECT_FAILED"
  | "XMPP_STANZA_TIMEOUT"
  | "XMPP_CONNECTION_LOST"
  | "XMPP_STANZA_ERROR"
  | "CLUSTER_UNAVAILABLE"
  | "CLUSTER_NO_WORKERS"
  | "CLUSTER_BUSY"
  | "CLUSTER_PROTOCOL"
  | "CLUSTER_NODE_FAILED"
  | "NODE_NOT_FOUND"
  | "NODE_NOT_RUNNING"
  | "NODE_UNRESPONSIVE"
  | "UPLOAD_INVALID"
  | "THROTTLE_UNKNOWN"
  | "THROTTLE_RECONFIGURED"
  | "COORDINATOR_TIMEOUT"
  | "API_HOST_REFUSED"
  | "API_ORIGIN_REFUSED"
  | "API_UPLOADS_OFF"
  | "API_RATE_LIMITED"
  | "SUT_SAMPLE_FAILED";

/** Base class: a message for humans, a `code` for programs, a `hint` a user can act on. */
export class AmocError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  constructor(code: ErrorCode, message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.hint = hint;
    this.name = new.target.name;
  }
  /** The message followed by the hint, as printed to users. */
  describe(): string {
    return this.hint ? `${this.message}\n  hint: ${this.hint}` : this.message;
  }
  toJSON(): { code: ErrorCode; message: string; hint: string } {
    return { code: this.code, message: this.message, hint: this.hint };
  }
}

/** One problem found while validating settings; `source` names the variable, file or run setting. */
export interface ConfigProblem {
  key: string;
  source: string;
  message: string;
}

/** Settings failed validation: lists every problem at once. */
export class ConfigError extends AmocError {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[], hint = "fix the values named above; `bin/amoc help` lists every setting") {
    super(
      "CONFIG_INVALID",
      `invalid settings:\n${problems.map((p) => `  - ${p.source}: ${p.message}`).join("\n")}`,
      hint,
    );
    this.problems = problems;
  }
}

/** Command-line or API misuse (missing argument, bad number, ...). */
export class UsageError extends AmocError {
  constructor(message: string, hint: string) {
    super("USAGE", message, hint);
  }
}

/** Scenario missing, malformed, or its variables misused. */
export class ScenarioError extends AmocError {}

/** A call that the controller's current state does not allow. */
export class StateError extends AmocError {
  constructor(message: string, hint: string) {
    super("STATE_INVALID", message, hint);
  }
}

/** A wait ran out of time. */
export class TimeoutError extends AmocError {
  constructor(what: string, timeoutMs: number, hint = "raise the timeout or check the server") {
    super("TIMEOUT", `${what} timed out after ${timeoutMs} ms`, hint);
  }
}

/** The user was removed with force: raised by `ctx.sleep` and the XMPP helpers so `start()` unwinds. */
export class UserAbortedError extends AmocError {
  constructor(id: number) {
    super("USER_ABORTED", `user ${id} was removed with force`, "");
  }
}

/** Cluster failures: NATS unreachable, no workers, a node not answering, a malformed message. */
export class ClusterError extends AmocError {}

/** A command named a node (or labels) that no live node matches. */
export class NodeNotFoundError extends AmocError {
  constructor(message: string, hint: string) {
    super("NODE_NOT_FOUND", message, hint);
  }
}

/** Exit code and HTTP status for each error code: the one table both the CLI and the REST API use. */
export const ERROR_STATUS: Record<ErrorCode, { exit: number; http: number }> = {
  CONFIG_INVALID: { exit: 2, http: 400 },
  USAGE: { exit: 2, http: 400 },
  SCENARIO_NOT_FOUND: { exit: 2, http: 404 },
  SCENARIO_INVALID: { exit: 2, http: 422 },
  SCENARIO_INIT_FAILED: { exit: 1, http: 500 },
  VARIABLE_UNDECLARED: { exit: 2, http: 400 },
  VARIABLE_INVALID: { exit: 2, http: 400 },
  VARIABLE_READ_ONLY: { exit: 2, http: 409 },
  STATE_INVALID: { exit: 2, http: 409 },
  THROTTLE_UNKNOWN: { exit: 2, http: 404 },
  THROTTLE_RECONFIGURED: { exit: 2, http: 409 },
  COORDINATOR_TIMEOUT: { exit: 1, http: 504 },
  USER_ABORTED: { exit: 1, http: 500 },
  TIMEOUT: { exit: 1, http: 504 },
  XMPP_CONNECT_FAILED: { exit: 1, http: 502 },
  XMPP_STANZA_TIMEOUT: { exit: 1, http: 504 },
  XMPP_CONNECTION_LOST: { exit: 1, http: 502 },
  XMPP_STANZA_ERROR: { exit: 1, http: 502 },
  CLUSTER_UNAVAILABLE: { exit: 2, http: 503 },
  CLUSTER_NO_WORKERS: { exit: 2, http: 503 },
  CLUSTER_BUSY: { exit: 2, http: 409 },
  CLUSTER_PROTOCOL: { exit: 1, http: 400 },
  CLUSTER_NODE_FAILED: { exit: 1, http: 502 },
  NODE_NOT_FOUND: { exit: 2, http: 404 },
  NODE_NOT_RUNNING: { exit: 3, http: 503 },
  NODE_UNRESPONSIVE: { exit: 1, http: 504 },
  UPLOAD_INVALID: { exit: 2, http: 400 },
  // a request not meant for this node (DNS rebinding shape): 421 Misdirected Request
  API_HOST_REFUSED: { exit: 2, http: 421 },
  API_ORIGIN_REFUSED: { exit: 2, http: 403 },
  API_UPLOADS_OFF: { exit: 2, http: 403 },
  API_RATE_LIMITED: { exit: 1, http: 429 },
  // one sampling of the server under test failed (src/sut/): counted in sut.scrape_errors, never fatal to a run
  SUT_SAMPLE_FAILED: { exit: 1, http: 502 },
};

/** A source of the server under test (a metrics URL, ejabberd's API, /proc) could not be sampled this time. */
export class SutSampleError extends AmocError {
  constructor(message: string, hint: string, options?: { cause?: unknown }) {
    super("SUT_SAMPLE_FAILED", message, hint, options);
  }
}

/** The message of anything thrown, for logs and summaries. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}
