/** The shape of one live frame (src/api/web/live-feed.ts): what the server sends once a second. */
export interface ProcessHealth {
  loop_lag_p99_ms: number;
  loop_lag_max_ms: number;
  cpu_pct: number;
  rss_mb: number;
  open_files: number | null;
}
export interface NodeFrame {
  name: string;
  role: string;
  state: string;
  labels: Record<string, string>;
  running: number;
  started: number;
  crashed: number;
  health: ProcessHealth | null;
  error?: string;
}
export interface FeedEvent {
  t: number;
  kind: string;
  text: string;
}
type Pct = { p50: number; p95: number; p99: number } | null;
export interface Frame {
  t: number;
  mode: string;
  run: {
    run_id: string | null;
    state: string;
    scenario: string;
    version?: string;
    settings: Record<string, unknown>;
    last_id: number;
  } | null;
  users: { running: number; started: number; crashed: number; removed: number; pending: number };
  nodes: NodeFrame[];
  rates: { arrivals: number; crashes: number; messages: number };
  /** Where the timings come from: the last interval, or the run so far (no intervals arriving). */
  series: "intervals" | "status";
  timings: { connection: Pct; ttd: Pct };
  crash_reasons: Record<string, number>;
  events: FeedEvent[];
  error?: string;
}
