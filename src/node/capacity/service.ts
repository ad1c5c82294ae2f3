/**
 * The capacity search as a Node API operation: one search at a time per API, its progress readable while it runs
 * (steps so far, then the result), a stop, and the finished search stored on its run (kind `capacity`) in the run
 * store. A refused request (bad options, a search already running, a start the node refuses) changes no state.
 */
import type { Clock } from "../../clock.js";
import { errorMessage, StateError } from "../../errors.js";
import type { Logger } from "../../log.js";
import type { CapacityBy } from "../../results/capacity-record.js";
import { RunStore } from "../../results/store.js";
import type { HealthSample } from "./health.js";
import { capacityOptions, type CapacityRequest } from "./request.js";
import {
  capacitySearch,
  checkCapacityOptions,
  type CapacityResult,
  type CapacityStep,
  type SearchApi,
} from "./search.js";

/** A search as `capacityProgress()` and `GET /execution/capacity` show it. */
export interface CapacityProgress {
  state: "running" | "stopping" | "done" | "failed";
  scenario: string;
  by: CapacityBy;
  /** The run the search drives (null until its first step started). */
  run_id: string | null;
  /** The steps judged so far. */
  steps: CapacityStep[];
  /** The outcome once done (the run's own end is in the run store). */
  result?: Omit<CapacityResult, "run">;
  error?: string;
}

export interface CapacityServiceDeps {
  api: SearchApi;
  clock: Clock;
  /** The run store the finished search is written to. */
  storePath: string;
  intervalMs: number;
  /** This process's health (local runs; a cluster's workers report theirs in their intervals). */
  sampleHealth?: () => HealthSample;
  log?: Logger;
}

interface Search {
  progress: CapacityProgress;
  stop: boolean;
  done: Promise<CapacityResult>;
}

/** See the file comment. */
export class CapacityService {
  private cur: Search | undefined;

  constructor(private readonly d: CapacityServiceDeps) {}

  /** Checks the request, then starts the search; resolves once its first step started (the run's id known). */
  async start(req: CapacityRequest, onStep?: (s: CapacityStep) => void): Promise<CapacityProgress> {
    const busy = this.cur && (this.cur.progress.state === "running" || this.cur.progress.state === "stopping");
    if (busy) {
      const p = this.cur!.progress;
      throw new StateError(
        `a capacity search is already running (${p.scenario}, run ${p.run_id ?? "starting"}, ${p.steps.length} steps judged): one search at a time`,
        "stop it first (PATCH /execution/capacity/stop, amoc_local.capacity_stop()) or wait for its result (GET /execution/capacity)",
      );
    }
    const o = capacityOptions(req, this.d.intervalMs);
    checkCapacityOptions(o);
    const prev = this.cur;
    const s: Search = {
      progress: { state: "running", scenario: o.scenario, by: o.by ?? "users", run_id: null, steps: [] },
      stop: false,
      done: undefined as unknown as Promise<CapacityResult>,
    };
    // taken now: a second request while this one's first start is pending is refused as busy
    this.cur = s;
    let started!: () => void;
    const whenStarted = new Promise<void>((r) => (started = r));
    s.done = capacitySearch(
      this.d.api,
      this.d.clock,
      {
        ...o,
        ...(this.d.sampleHealth ? { sampleHealth: this.d.sampleHealth } : {}),
        stopped: () => s.stop,
        onStarted: (id) => {
          s.progress.run_id = id;
          started();
        },
      },
      (step) => {
        s.progress.steps.push(step);
        onStep?.(step);
      },
    ).then(
      (r) => this.finish(s, r),
      (e: unknown) => {
        s.progress.state = "failed";
        s.progress.error = errorMessage(e);
        throw e;
      },
    );
    s.done.catch(() => {}); // read through result(); a failure is in the progress
    try {
      await Promise.race([whenStarted, s.done]);
    } catch (e) {
      // the run never started: nothing happened, the previous search stays the last one
      if (s.progress.run_id === null) this.cur = prev;
      throw e;
    }
    return this.progress()!;
  }

  /** The current search, or the last one (null: none yet). */
  progress(): CapacityProgress | null {
    return this.cur ? { ...this.cur.progress, steps: [...this.cur.progress.steps] } : null;
  }

  /** Stops the running search (the step under way is not judged) and resolves with its end; null: none ran. */
  async stop(): Promise<CapacityProgress | null> {
    const s = this.cur;
    if (!s) return null;
    if (s.progress.state === "running") {
      s.stop = true;
      s.progress.state = "stopping";
    }
    await s.done.catch(() => {});
    return this.progress();
  }

  /** The current (or last) search's result once it ends; null: none ran. A failed search rejects. */
  async result(): Promise<CapacityResult | null> {
    return this.cur ? this.cur.done : null;
  }

  private finish(s: Search, r: CapacityResult): CapacityResult {
    const { run: _run, ...rest } = r;
    try {
      if (r.run_id) {
        const store = RunStore.open(this.d.storePath);
        try {
          store.recordCapacity(r.run_id, r);
        } finally {
          store.close();
        }
      }
    } catch (e) {
      this.d.log?.warn({
        msg: "capacity_record_failed",
        err: errorMessage(e),
        affects: "the search's steps are not in the run store (its run is)",
      });
    }
    s.progress.result = rest;
    s.progress.state = "done";
    return r;
  }
}
