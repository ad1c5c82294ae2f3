/**
 * The Node API plus uploaded scenarios: lists built-in and uploaded scenarios with their version, checks and
 * stores uploads by content hash, and starts an uploaded scenario at its newest version (every node loads that
 * version by hash, so a run keeps it when the name is uploaded again).
 */
import type { ScenarioStore } from "../../cluster/scenario-store.js";
import { isSettingKey } from "../../config/schema.js";
import { checkUpdate } from "../../config/variables.js";
import { AmocError, UsageError } from "../../errors.js";
import type { ApiStatus, CommandOptions, CommandResult, NodeApi, ScenarioDetails, ScenarioSummary, StartRequest, UploadResult } from "../../node/node-api.js";
import { scenarioDetails } from "../../node/scenario-info.js";
import { loadScenario, type LoadedScenario } from "../../scenario/loader.js";
import { checkUpload, checkUploadName } from "../../scenario/upload-check.js";

/** What the REST server calls: the Node API, uploads, and the defaults of a scenario's variables. */
export interface RestNodeApi extends NodeApi {
  upload(name: string, source: string): Promise<UploadResult>;
  scenarioDefaults(name: string): Promise<Record<string, unknown>>;
}

/** Wraps a Node API with an upload store; `workDir` holds the scratch files of the check step. */
export class UploadingApi implements RestNodeApi {
  private lastStart: { scenario: string; version: string } | undefined;
  constructor(
    private readonly api: NodeApi,
    private readonly store: () => Promise<ScenarioStore>,
    private readonly workDir: string,
    private readonly scenariosDir: string,
  ) {}

  get mode(): NodeApi["mode"] {
    return this.api.mode;
  }
  get nodeName(): string {
    return this.api.nodeName;
  }

  async upload(name: string, source: string): Promise<UploadResult> {
    checkUploadName(name);
    const builtin = (await this.api.scenarios()).some((s) => s.name === name && s.source === "builtin");
    if (builtin) throw new UsageError(`'${name}' is a built-in scenario`, "upload under another name");
    const version = await checkUpload(name, source, this.workDir);
    const { unchanged } = await (await this.store()).put(name, version, source);
    return { name, version, unchanged };
  }

  async scenarios(): Promise<ScenarioSummary[]> {
    const builtin = await this.api.scenarios();
    const uploaded = (await (await this.store()).list()).map((u) => ({ name: u.name, source: "uploaded" as const, version: u.version }));
    return [...builtin, ...uploaded.filter((u) => !builtin.some((b) => b.name === u.name))];
  }

  /** The newest uploaded version of `name` as a local file, or null for a name never uploaded. */
  private async uploaded(name: string): Promise<{ file: string; version: string } | null> {
    const store = await this.store();
    const u = await store.latest(name);
    return u ? { file: await store.file(name, u.version), version: u.version } : null;
  }

  async scenarioInfo(name: string): Promise<ScenarioDetails> {
    const u = (await this.api.scenarios()).some((s) => s.name === name) ? null : await this.uploaded(name);
    if (!u) return this.api.scenarioInfo(name);
    return { ...(await scenarioDetails(u.file, this.scenariosDir)), name, source: "uploaded", version: u.version };
  }

  async scenarioDefaults(name: string): Promise<Record<string, unknown>> {
    const info = await this.scenarioInfo(name);
    return Object.fromEntries(info.variables.map((v) => [v.name, v.default]));
  }

  async start(req: StartRequest): Promise<CommandResult> {
    const isBuiltin = (await this.api.scenarios()).some((s) => s.name === req.scenario);
    const u = isBuiltin ? null : await this.uploaded(req.scenario);
    if (!u) return this.api.start(req);
    const r = await this.api.start({ ...req, scenario: u.file, version: u.version });
    this.lastStart = { scenario: req.scenario, version: u.version };
    return { ...r, scenario: req.scenario, version: u.version };
  }

  /** The status, with the version of an uploaded scenario this API started (local mode does not record it). */
  async status(): Promise<ApiStatus> {
    const s = await this.api.status();
    const last = this.lastStart;
    if (s.run && !s.run.version && last && s.run.scenario === last.scenario) s.run = { ...s.run, version: last.version };
    return s;
  }

  /**
   * In a cluster, the settings are first checked against the run's scenario here: an undeclared, read-only or
   * invalid variable is the client's mistake (400/409), not a failure of every worker (502).
   */
  async updateSettings(settings: Record<string, unknown>, opts?: CommandOptions): Promise<CommandResult> {
    if (this.api.mode === "dist") await this.checkUpdate(settings);
    return this.api.updateSettings(settings, opts);
  }

  private async checkUpdate(settings: Record<string, unknown>): Promise<void> {
    const run = (await this.api.status()).run;
    if (!run || run.state !== "running") return; // the Node API says why
    const key = Object.keys(settings).find((k) => isSettingKey(k));
    if (key) throw new AmocError("VARIABLE_READ_ONLY", `'${key}' is a node setting and cannot change during a run`, "stop the run and start a new one with the new value");
    let scenario: LoadedScenario;
    try {
      const file = run.version ? await (await this.store()).file(run.scenario, run.version) : run.scenario;
      scenario = await loadScenario(file, this.scenariosDir);
    } catch {
      return; // not loadable here: the workers check
    }
    checkUpdate(scenario.variables, settings, scenario.file);
  }

  nodes = () => this.api.nodes();
  nodeStatus = (node: string) => this.api.nodeStatus(node);
  add = (n: number, opts?: CommandOptions) => this.api.add(n, opts);
  remove = (n: number, opts?: CommandOptions) => this.api.remove(n, opts);
  stop = (opts?: CommandOptions) => this.api.stop(opts);
}
