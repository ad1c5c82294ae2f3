/** The public scenario API: the only module (with `src/xmpp/index.ts`) that scenarios import. */
import type { NodeSettings } from "../config/schema.js";
import type { VariableDecls, VariableValues } from "../config/variables.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics/metrics.js";

export { defineVariables } from "../config/variables.js";
export type { VariableDecl, VariableDecls, VariableValues } from "../config/variables.js";
export type { Metrics } from "../metrics/metrics.js";
export type { Logger } from "../log.js";
export type { NodeSettings } from "../config/schema.js";
export { defineScenario, type DefinedScenario, type ScenarioDefinition, type VarsOf } from "./define.js";
export { duration, nonNegative, oneOf, positiveInt } from "./verifiers.js";
export type {
  CoordinateOptions,
  GradualChange,
  GroupMember,
  ThrottleApi,
  ThrottleConfig,
  UserThrottle,
} from "./throttle-api.js";
import type { CoordinateOptions, GroupMember, ThrottleApi, UserThrottle } from "./throttle-api.js";

/** What `init` receives: once per node, before any user starts. */
export interface InitContext<V = Record<string, unknown>> {
  readonly scenario: string;
  readonly nodeName: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly vars: V;
  readonly settings: Readonly<NodeSettings>;
  /** Waits `ms` (e.g. for a service to warm up) before the first user starts. */
  sleep(ms: number): Promise<void>;
  /** Named cluster-wide rate limits: start them here (`ctx.throttle.start('msg', {rate: 100, interval: 1000})`). */
  readonly throttle?: ThrottleApi;
}

/** What each virtual user's `start` receives. */
export interface UserContext<V = Record<string, unknown>> {
  readonly id: number;
  /** Aborted when the user is removed with force; pass it to anything that waits. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** The scenario's variables, live: updatable ones change during the run. */
  readonly vars: V;
  /** The run's node settings (xmpp_servers, templates, ...). */
  readonly settings: Readonly<NodeSettings>;
  /** True once the user was asked to stop (graceful or forced removal). */
  readonly stopping: boolean;
  /** Names the step the user is in; reported with a crash (default "start"). */
  phase: string;
  /** Waits `ms`; rejects with UserAbortedError when the user is removed with force. */
  sleep(ms: number): Promise<void>;
  /** Resolves when the user is asked to stop: what a user that only holds a connection waits on. */
  stopped(): Promise<void>;
  /** Cluster-wide rate limits: `await ctx.throttle.wait('msg')` before each action. */
  readonly throttle: UserThrottle;
  /**
   * Joins group `name` and resolves with its members (IDs and values), across nodes, once it has `groupSize` users
   * (default 2: pairs) or `timeoutMs` passed since the last join (a partial group). Rejects if this user is removed.
   */
  coordinate(name: string, opts?: CoordinateOptions): Promise<GroupMember[]>;
}

/** The shape of a scenario module. */
export interface ScenarioModule<S = unknown, V extends VariableDecls = VariableDecls> {
  variables?: V;
  init?: (ctx: InitContext<VariableValues<V>>) => Promise<S> | S;
  start: (id: number, state: S, ctx: UserContext<VariableValues<V>>) => Promise<void> | void;
  terminate?: (state: S) => Promise<void> | void;
}
