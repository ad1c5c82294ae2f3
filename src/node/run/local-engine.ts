/**
 * This node alone as a run engine, over its Controller: one node, keyed by its name, in every per-node result. The
 * run's intervals come from an aggregator on the node's telemetry (the recording's own, `localIntervals`).
 */
import type { Controller } from "../../controller/controller.js";
import type { StatusReport } from "../../controller/types.js";
import { NodeNotFoundError, StateError } from "../../errors.js";
import type { ThrottleOp } from "../../throttle/throttle.js";
import type {
  ApiStatus,
  CommandOptions,
  CommandResult,
  NodeInfo,
  NodeSelector,
  PerNode,
  ThrottleRequest,
} from "../node-api.js";
import type { EngineStart, RunEngine } from "./engine.js";
import { requireNode, selectNodes } from "./selector.js";

/** What the local engine reads from the node. */
export interface LocalEngineDeps {
  controller: Controller;
  labels: Record<string, string>;
}

/** Commands go straight to the controller; its AmocErrors propagate (one node: nothing to report per node). */
export class LocalEngine implements RunEngine {
  readonly mode = "local" as const;
  readonly localIntervals = true;

  constructor(private readonly d: LocalEngineDeps) {}

  get nodeName(): string {
    return this.d.controller.nodeName;
  }

  private self(): NodeInfo {
    const c = this.d.controller;
    return {
      name: this.nodeName,
      role: "local",
      labels: this.d.labels,
      state: c.state,
      running: c.status().users.running,
    };
  }

  /** Throws NODE_NOT_FOUND unless the selector picks this node. */
  private checkSelected(sel: NodeSelector | undefined): void {
    if (selectNodes([this.self()], sel ?? {}).length === 0)
      throw new NodeNotFoundError(
        `no node matches labels ${JSON.stringify(sel?.labels)}`,
        `this node's labels: ${JSON.stringify(this.d.labels)}`,
      );
  }

  private one<T extends object>(result: T, users?: number): CommandResult {
    const r: CommandResult = { nodes: { [this.nodeName]: { ok: true, result: result as Record<string, unknown> } } };
    if (users !== undefined) r.users = users;
    return r;
  }

  async nodes(): Promise<NodeInfo[]> {
    return [this.self()];
  }

  async status(): Promise<ApiStatus> {
    const s = this.d.controller.status();
    const run = this.d.controller.runInfo();
    return {
      mode: "local",
      run: s.scenario
        ? { run_id: null, state: s.state, scenario: s.scenario, settings: run?.settings ?? s.settings }
        : null,
      users: s.users,
      nodes: { [this.nodeName]: { ok: true, result: s } as PerNode<StatusReport> },
    };
  }

  async nodeStatus(node: string): Promise<StatusReport> {
    requireNode([this.self()], node);
    return this.d.controller.status();
  }

  async check(req: EngineStart): Promise<void> {
    this.checkSelected(req);
    const st = this.d.controller.state;
    if (st === "running" || st === "terminating")
      throw new StateError(
        `a run of '${this.d.controller.status().scenario}' is ${st}`,
        "stop it first (amoc_local.stop(), or stop() in the console), then start a new one",
      );
    await this.d.controller.resolveRun(req.scenario.file, req.settings);
  }

  async start(req: EngineStart): Promise<CommandResult> {
    this.checkSelected(req);
    const r = await this.d.controller.do(req.scenario.file, req.from, req.to, req.settings);
    return this.one(r, r.users);
  }

  async add(n: number, opts?: CommandOptions): Promise<CommandResult> {
    this.checkSelected(opts);
    const r = this.d.controller.add(n);
    return this.one(r, r.users);
  }

  async remove(n: number, opts?: CommandOptions): Promise<CommandResult> {
    this.checkSelected(opts);
    const r = this.d.controller.remove(n, { force: opts?.force === true });
    return this.one(r, r.removed);
  }

  async updateSettings(settings: Record<string, unknown>, opts?: CommandOptions): Promise<CommandResult> {
    this.checkSelected(opts);
    const changed = this.d.controller.updateSettings(settings);
    return this.one({ changed });
  }

  async stop(opts?: CommandOptions): Promise<CommandResult> {
    this.checkSelected(opts);
    const s = await this.d.controller.stop();
    return this.one(s, s.users.removed);
  }

  async throttle(req: ThrottleRequest, opts?: NodeSelector): Promise<CommandResult> {
    this.checkSelected(opts);
    return this.one(this.d.controller.throttle(req as ThrottleOp) as Record<string, unknown>);
  }

  whenNoUsers(): Promise<void> {
    return this.d.controller.whenNoUsers();
  }

  /** Local mode has no workers to wait for: this node is the run. */
  async waitForWorkers(): Promise<string[]> {
    return [this.nodeName];
  }

  async connect(): Promise<void> {}

  follow(): () => void {
    return () => {};
  }
}
