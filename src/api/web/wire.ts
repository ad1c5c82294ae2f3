/**
 * The shapes the dashboard's server side sends and its browser code (web/src) reads: one module for both, types
 * only and no imports, so web/tsconfig.json compiles it without Node's types. The server types its replies with
 * these (live-feed.ts, dashboard routes) and the server's own shapes must be assignable to them, so a change on
 * either side breaks the build instead of the page.
 */

/** One process's health (metrics/process-health.ts's ProcessHealth must stay assignable to it). */
export interface NodeHealth {
  loop_lag_p99_ms: number;
  loop_lag_max_ms: number;
  cpu_pct: number;
  rss_mb: number;
  open_files: number | null;
  /** `host:pid` of the sampled process. */
  process?: string;
}

/** One node's row in a frame. */
export interface NodeFrame {
  name: string;
  role: string;
  /** Controller state, or "down" (missed heartbeats) / "left" (said goodbye). */
  state: string;
  labels: Record<string, string>;
  running: number;
  started: number;
  crashed: number;
  health: NodeHealth | null;
  error?: string;
}

/** A run event as the charts mark it. */
export interface FeedEvent {
  t: number;
  kind: string;
  text: string;
}

/** p50/p95/p99 in ms, or null when the timing has no samples. */
export type Percentiles = { p50: number; p95: number; p99: number } | null;

/** The run a frame shows. */
export interface FrameRun {
  run_id: string | null;
  state: string;
  scenario: string;
  version?: string;
  settings: Record<string, unknown>;
  /** Highest user ID issued. */
  last_id: number;
}

/** One second of the node or cluster: what `/dashboard/stream` sends once a second. */
export interface Frame {
  t: number;
  mode: string;
  run: FrameRun | null;
  users: { running: number; started: number; crashed: number; removed: number; pending: number };
  nodes: NodeFrame[];
  /** Per second since the previous frame. */
  rates: { arrivals: number; crashes: number; messages: number };
  /**
   * Where the timings come from: the last merged interval of the run (`intervals`), or nowhere yet (`none`: no
   * interval in the last 5 s; the charts leave a gap rather than show a figure of another kind).
   */
  series: "intervals" | "none";
  timings: { connection: Percentiles; ttd: Percentiles };
  /**
   * Every metric of the run's last merged interval, the built-in and the scenario's own (`muc.echo_rtt`) alike:
   * timings as p50/p95/p99 (ms), counters per second. Empty while `series` is `none`.
   */
  metrics: { timings: Record<string, NonNullable<Percentiles>>; rates: Record<string, number> };
  /**
   * The server under test's last sampling (`sut.*` values: CPU in cores, RSS bytes, sessions, selected series), when
   * the run samples one (AMOC_SUT_METRICS_URL / AMOC_SUT_PROCESS); absent otherwise.
   */
  server?: Record<string, number>;
  /** Crashes by reason (users/crash-reason.ts), run totals. */
  crash_reasons: Record<string, number>;
  events: FeedEvent[];
  error?: string;
}

/** A recorded run as the History tab lists it (`GET /dashboard/runs`). */
export interface RunRow {
  id: string;
  scenario: string;
  users: number;
  nodes: string[];
  started_at: number;
  ended_at: number | null;
  /** passed, failed, breached, incomplete or running. */
  verdict: string;
  exit_code: number | null;
  source_hash: string | null;
  /** `run`, or `capacity` for a capacity search (its report is the capacity report). */
  kind: string;
}

/** `GET /dashboard/runs`: the node's recorded runs, newest first. */
export interface RunsReply {
  runs: RunRow[];
}

/** One statistic of one metric in both runs of a comparison. */
export interface StatChange {
  a: number | null;
  b: number | null;
  changePct: number | null;
  regression: boolean;
}

/** One metric of a comparison. */
export interface MetricChange {
  metric: string;
  stats: Partial<Record<string, StatChange>>;
  regression: boolean;
}

/** `GET /dashboard/compare?a=&b=`: run B against baseline A. */
export interface CompareReply {
  a: string;
  b: string;
  metrics: MetricChange[];
}

/** `POST /dashboard/runs/:id/ticket`: a URL that opens the run's report once. */
export interface TicketReply {
  url: string;
}

/** `GET /dashboard/scenarios/:name/source`. */
export interface SourceReply {
  name: string;
  source: "builtin" | "uploaded";
  version?: string;
  text: string;
}

/** One problem with a start form's value, named by its variable. */
export interface VariableProblem {
  key: string;
  message: string;
}

/** `POST /dashboard/scenarios/:name/check`. */
export interface CheckReply {
  problems: VariableProblem[];
}

/** A scenario as `GET /scenarios` details it. */
export interface ScenarioRow {
  name: string;
  source: "builtin" | "uploaded";
  version?: string;
}

/** A declared variable as `GET /scenarios/info/:name` lists it. */
export interface VariableRow {
  name: string;
  doc: string;
  default: unknown;
  updatable: boolean;
}

/** `GET /scenarios`: amoc 2.x's names, plus each scenario's source and version. */
export interface ScenarioListReply {
  scenarios: string[];
  details: ScenarioRow[];
}

/** `GET /scenarios/info/:name` as the start form reads it. */
export interface ScenarioInfoReply extends ScenarioRow {
  doc?: string;
  variables: VariableRow[];
}

/** What every refusal carries (errors.ts codes; `problems` for bad input). */
export interface ErrorReply {
  error?: string;
  message?: string;
  hint?: string;
}

/** One threshold as judged at a run's end. */
export interface ThresholdRow {
  expr: string;
  ok: boolean;
  actual: number | null;
  message: string;
}

/** How a run ended, as the stop's reply carries it (`run`) and the control tab shows it. */
export interface RunEndRow {
  run_id: string;
  verdict: string;
  exit_code: number;
  thresholds: ThresholdRow[];
}
