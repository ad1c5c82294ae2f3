/** The throttle and coordinator interfaces scenarios see (implemented in users/throttle.ts and the coordinator). */

/** A throttle's cluster-wide setting: `rate` actions per `interval` ms (default 60 000, as amoc), or `interarrival` ms. */
export interface ThrottleConfig {
  rate?: number;
  interval?: number;
  interarrival?: number;
}

/** A gradual change: from `from` to `to` (actions per interval) in `steps` equal steps over `overMs`. */
export interface GradualChange {
  from: number;
  to: number;
  overMs: number;
  steps?: number;
  interval?: number;
}

/** Named rate limits, cluster-wide: every node paces its share, with no network message per call. */
export interface ThrottleApi {
  /** Starts a throttle; `started` or `already_started` (same rate); another rate for a running name is an error. */
  start(name: string, cfg: ThrottleConfig | number): "started" | "already_started";
  /** Resolves when this caller may act; rejects when the throttle stops or `signal` aborts. */
  wait(name: string, signal?: AbortSignal): Promise<void>;
  changeRate(name: string, cfg: ThrottleConfig | number): void;
  changeRateGradually(name: string, g: GradualChange): void;
  pause(name: string): void;
  resume(name: string): void;
  stop(name: string): void;
}

/** A user's view of the throttles: `wait` is released (rejected) when the user is removed with force. */
export interface UserThrottle {
  wait(name: string): Promise<void>;
}

/** How a coordinator groups users: `groupSize` N (2 = pairs) or "all" (released by the timeout), and the timeout. */
export interface CoordinateOptions {
  /** Users per group; "all" groups everyone who joins until the timeout. Default 2 (pairs). */
  groupSize?: number | "all";
  /** A group not full this long after its last join is released as it is (partial). Default 30 000 (amoc). */
  timeoutMs?: number;
  /** An opaque JSON value the others receive with this user's ID (e.g. its JID). */
  value?: unknown;
}

/** One member of a released group. */
export interface GroupMember {
  id: number;
  value: unknown;
}
