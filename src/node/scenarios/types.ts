/** What the Node API says of scenarios: listings, details, sources, variable checks and uploads. */

/** A scenario's source as the dashboard's editor shows it. */
export interface ScenarioSource {
  name: string;
  source: "builtin" | "uploaded";
  version?: string;
  text: string;
}

/** One problem with the variables a start would pass (the dashboard's start form checks before it starts). */
export interface VariableProblem {
  key: string;
  message: string;
}

/** A scenario as listed. */
export interface ScenarioSummary {
  name: string;
  /** "builtin" (scenarios_dir) or "uploaded". */
  source: "builtin" | "uploaded";
  /** Content hash of the newest version (uploaded ones; built-ins may have one too). */
  version?: string;
}

/** A declared scenario variable, as `GET /scenarios/info/{name}` shows it. */
export interface VariableInfo {
  name: string;
  doc: string;
  default: unknown;
  updatable: boolean;
}

/** One scenario in detail. */
export interface ScenarioDetails extends ScenarioSummary {
  doc?: string;
  variables: VariableInfo[];
}

/** An accepted upload. */
export interface UploadResult {
  name: string;
  version: string;
  /** Whether this exact source was already stored (same hash). */
  unchanged: boolean;
}
