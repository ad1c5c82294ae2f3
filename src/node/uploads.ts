/**
 * The Node API plus uploaded scenarios: lists built-in and uploaded scenarios with their version, checks and
 * stores uploads by content hash, and starts an uploaded scenario at its newest version (every node loads that
 * version by hash, so a run keeps it when the name is uploaded again). `nodeApis` wraps both APIs of a node with
 * it, so the console, the attached console, `bin/amoc run` and REST all see the same uploads.
 */
import type { ClusterBus } from "../cluster/bus.js";
import { connectBus } from "../cluster/nats-bus.js";
import { KvScenarioStore } from "../cluster/nats-scenario-store.js";
import { uploadsDir, type ScenarioStore } from "../cluster/scenario-store.js";
import { Subjects } from "../cluster/subjects.js";
import { isSettingKey, type NodeSettings } from "../config/schema.js";
import { checkUpdate } from "../config/variables.js";
import { AmocError, UsageError } from "../errors.js";
import type { Logger } from "../log.js";
import { loadScenario, type LoadedScenario } from "../scenario/loader.js";
import { DirScenarioStore } from "../scenario/upload-dir-store.js";
import { checkUpload, checkUploadName, UPLOAD_NAME_RE } from "../scenario/upload-check.js";
import type { DistNodeApi } from "./dist-api.js";
import type {
  ApiStatus,
  CommandOptions,
  CommandResult,
  NodeApi,
  NodeSelector,
  ScenarioDetails,
  ScenarioSummary,
  StartRequest,
  ThrottleRequest,
  UploadResult,
} from "./node-api.js";
import { scenarioDetails } from "./scenario-info.js";

/** What the REST server calls: the Node API, uploads, and the defaults of a scenario's variables. */
export interface RestNodeApi extends NodeApi {
  upload(name: string, source: string): Promise<UploadResult>;
  scenarioDefaults(name: string): Promise<Record<string, unknown>>;
}

/** Whether `api` already serves uploads (an UploadingApi, or a test double of one). */
export function servesUploads(api: NodeApi): api is RestNodeApi {
  return (
    typeof (api as Partial<RestNodeApi>).upload === "function" &&
    typeof (api as Partial<RestNodeApi>).scenarioDefaults === "function"
  );
}

/** A lazily opened scenario store, and how to release what it opened. */
export interface UploadStore {
  get(): Promise<ScenarioStore>;
  close(): Promise<void>;
}

/**
 * The store of a node's uploads: the cluster's bucket when `cluster` (over a NATS connection of its own, opened on
 * first use; a failed connection is retried by the next call), else the node's data directory.
 */
export function uploadStore(settings: NodeSettings, cluster: boolean, log: Logger): UploadStore {
  let bus: Promise<ClusterBus> | undefined;
  let store: Promise<ScenarioStore> | undefined;
  return {
    get() {
      if (store) return store;
      if (!cluster) return (store = Promise.resolve(new DirScenarioStore(uploadsDir(settings))));
      const subjects = new Subjects(settings.cluster_name);
      bus = connectBus(settings, subjects.bucket(), log);
      store = bus.then(async (b) => new KvScenarioStore(await b.kv(), uploadsDir(settings)));
      void store.catch(() => {
        store = undefined;
        bus = undefined;
      });
      return store;
    },
    async close() {
      const b = await bus?.catch(() => undefined);
      bus = store = undefined;
      await b?.close();
    },
  };
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
    const uploaded = (await (await this.store()).list()).map((u) => ({
      name: u.name,
      source: "uploaded" as const,
      version: u.version,
    }));
    return [...builtin, ...uploaded.filter((u) => !builtin.some((b) => b.name === u.name))];
  }

  /**
   * The newest uploaded version of `name` as a local file, or null for a built-in name, a path, or a name never
   * uploaded (those go to the wrapped API, which loads them from disk or says they are not found).
   */
  private async uploaded(name: string): Promise<{ file: string; version: string } | null> {
    if (!UPLOAD_NAME_RE.test(name)) return null;
    if ((await this.api.scenarios()).some((s) => s.name === name)) return null;
    let store: ScenarioStore;
    try {
      store = await this.store();
    } catch (e) {
      // a local run of a name that is not built in must not need the cluster: the local API says it is not found
      if (this.api.mode === "local") return null;
      throw e;
    }
    const u = await store.latest(name);
    return u ? { file: await store.file(name, u.version), version: u.version } : null;
  }

  async scenarioInfo(name: string): Promise<ScenarioDetails> {
    const u = await this.uploaded(name);
    if (!u) return this.api.scenarioInfo(name);
    return { ...(await scenarioDetails(u.file, this.scenariosDir)), name, source: "uploaded", version: u.version };
  }

  async scenarioDefaults(name: string): Promise<Record<string, unknown>> {
    const info = await this.scenarioInfo(name);
    return Object.fromEntries(info.variables.map((v) => [v.name, v.default]));
  }

  async start(req: StartRequest): Promise<CommandResult> {
    const u = await this.uploaded(req.scenario);
    if (!u) return this.api.start(req);
    const r = await this.api.start({ ...req, scenario: u.file, version: u.version });
    this.lastStart = { scenario: req.scenario, version: u.version };
    return { ...r, scenario: req.scenario, version: u.version };
  }

  /** The status, with the version of an uploaded scenario this API started (local mode does not record it). */
  async status(): Promise<ApiStatus> {
    const s = await this.api.status();
    const last = this.lastStart;
    if (s.run && !s.run.version && last && s.run.scenario === last.scenario)
      s.run = { ...s.run, version: last.version };
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
    if (key)
      throw new AmocError(
        "VARIABLE_READ_ONLY",
        `'${key}' is a node setting and cannot change during a run`,
        "stop the run and start a new one with the new value",
      );
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
  throttle = (req: ThrottleRequest, opts?: NodeSelector): Promise<CommandResult> =>
    this.api.throttle
      ? this.api.throttle(req, opts)
      : Promise.reject(new UsageError("this API has no throttles", "use a local or dist node API"));
}

/** The cluster's API with uploads, keeping what only the dist API has (joining, waiting for workers). */
export class UploadingDistApi extends UploadingApi {
  constructor(
    private readonly dist: DistNodeApi,
    store: () => Promise<ScenarioStore>,
    workDir: string,
    scenariosDir: string,
  ) {
    super(dist, store, workDir, scenariosDir);
  }

  master(): ReturnType<DistNodeApi["master"]> {
    return this.dist.master();
  }

  waitForWorkers(...args: Parameters<DistNodeApi["waitForWorkers"]>): ReturnType<DistNodeApi["waitForWorkers"]> {
    return this.dist.waitForWorkers(...args);
  }
}
