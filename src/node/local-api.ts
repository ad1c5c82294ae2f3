/** The Node API over this node's Controller: one node, keyed by its name, in every per-node result. */
import type { Controller, StatusReport } from "../controller/controller.js";
import { NodeNotFoundError } from "../errors.js";
import type { ThrottleOp } from "../throttle/throttle.js";
import type { ThrottleRequest } from "./node-api.js";
import type {
  ApiStatus,
  CommandOptions,
  CommandResult,
  NodeApi,
  NodeInfo,
  NodeSelector,
  PerNode,
  ScenarioDetails,
  ScenarioSummary,
  StartRequest,
} from "./node-api.js";
import { builtinScenarios, scenarioDetails } from "./scenario-info.js";
import { requireNode, selectNodes } from "./selector.js";
import { startRange } from "./start-range.js";

/** What the local API reads from the node. */
export interface LocalApiDeps {
  controller: Controller;
  scenariosDir: string;
  labels: Record<string, string>;
}

/** Commands go straight to the controller; its AmocErrors propagate (one node: nothing to report per node). */
export class LocalNodeApi implements NodeApi {
  readonly mode = "local" as const;

  constructor(private readonly d: LocalApiDeps) {}

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

  async scenarios(): Promise<ScenarioSummary[]> {
    return builtinScenarios(this.d.scenariosDir);
  }

  async scenarioInfo(name: string): Promise<ScenarioDetails> {
    return scenarioDetails(name, this.d.scenariosDir);
  }

  async start(req: StartRequest): Promise<CommandResult> {
    const { from, to } = startRange(req);
    this.checkSelected(req);
    const r = await this.d.controller.do(req.scenario, from, to, req.settings ?? {});
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
}
