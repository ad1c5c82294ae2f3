/**
 * The one rule for each kind of name, used by the settings, the REST API, the data directory and the cluster alike.
 * Every name is letters, digits, `_` and `-`: it becomes a NATS subject token or bucket name, a file or directory
 * name and a metric path segment, so it holds no dot, slash, wildcard or space.
 */

/** Node names (`node_name`): 1 to 64 characters; a node's subject, its data directory, its metric prefix. */
export const NODE_NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Scenario names (a file of `scenarios_dir` without its extension, an upload, a key of `mix`): 1 to 64 characters,
 * never a path; not `__proto__`, which an index kept as a plain object could not hold.
 */
export const SCENARIO_NAME_RE = /^(?!__proto__$)[A-Za-z0-9_-]{1,64}$/;

/**
 * Names of uploaded scenarios: scenario names without `-` (the REST API and `bin/amoc upload` have refused it from
 * the start; a name a node accepted once stays valid).
 */
export const UPLOAD_NAME_RE = /^(?!__proto__$)[A-Za-z0-9_]{1,64}$/;

/** Other names (`cluster_name`, label keys): one or more characters. */
export const NAME_RE = /^[A-Za-z0-9_-]+$/;
