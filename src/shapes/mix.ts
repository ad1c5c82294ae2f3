/**
 * Scenario mixes: one run with several scenarios by weight (`mix: {one_to_one: 3, muc: 1}`). Each user ID gets its
 * scenario deterministically from its position in a weighted round (smooth weighted round-robin, so any W
 * consecutive IDs hold exactly the weights), so every node of a cluster picks the same for the same ID and `add`
 * keeps the mix. The mix runs as one scenario module: init/terminate call each scenario's, start dispatches by ID,
 * metrics are counted under their own name and again under `<scenario>.<name>`, crashes carry `<scenario>/<phase>`.
 */
import { coerceJson, parseMix, type MixWeights } from "../config/shapes.js";
import type { VariableDecls } from "../config/variables.js";
import { UsageError } from "../errors.js";
import type { InitContext, Metrics, ScenarioModule, UserContext } from "../scenario/api.js";
import { loadScenario, type LoadedScenario } from "../scenario/loader.js";

/** The scenarios of one weighted round, in order: `round[(id - 1) % round.length]` is the scenario of `id`. */
export function mixRound(weights: MixWeights): string[] {
  const names = Object.keys(weights).sort();
  const total = names.reduce((s, n) => s + weights[n]!, 0);
  const current = new Map(names.map((n) => [n, 0]));
  const out: string[] = [];
  for (let i = 0; i < total; i++) {
    let best = names[0]!;
    for (const n of names) {
      current.set(n, current.get(n)! + weights[n]!);
      if (current.get(n)! > current.get(best)!) best = n;
    }
    current.set(best, current.get(best)! - total);
    out.push(best);
  }
  return out;
}

/** The scenario of user `id` (IDs start at 1) in a round. */
export function scenarioOf(round: readonly string[], id: number): string {
  return round[(((id - 1) % round.length) + round.length) % round.length]!;
}

/** The mix a run uses: its own `mix` setting, else the node's (env, config file); undefined when empty. */
export function mixOf(runSettings: Record<string, unknown>, nodeMix: MixWeights | undefined): MixWeights | undefined {
  let raw: unknown = runSettings.mix ?? nodeMix;
  if (typeof raw === "string") raw = coerceJson(raw);
  if (raw === undefined) return undefined;
  let m: MixWeights;
  try {
    m = parseMix(raw);
  } catch (e) {
    throw new UsageError(`bad mix: ${(e as Error).message}`, 'e.g. mix: {"one_to_one": 3, "muc": 1}');
  }
  return Object.keys(m).length ? m : undefined;
}

/** Loads the run's scenario: a mix of the named scenarios when a mix is set (the run is then called `name`), else `name`. */
export async function loadRunScenario(name: string, mix: MixWeights | undefined, dir: string): Promise<LoadedScenario> {
  if (!mix) return loadScenario(name, dir);
  const parts = await Promise.all(
    Object.keys(mix)
      .sort()
      .map((n) => loadScenario(n, dir)),
  );
  return mixedScenario(name, mix, parts);
}

/** Metrics that count each measurement under its name and under `<scenario>.<name>`. */
function taggedMetrics(m: Metrics, scenario: string): Metrics {
  return {
    count: (n, v) => {
      m.count(n, v);
      m.count(`${scenario}.${n}`, v);
    },
    timing: (n, ms) => {
      m.timing(n, ms);
      m.timing(`${scenario}.${n}`, ms);
    },
    gauge: (n, v) => {
      m.gauge(n, v);
      m.gauge(`${scenario}.${n}`, v);
    },
  };
}

/** A user's context with its metrics tagged: every other property and method is the user's own. */
function tagged(ctx: UserContext, metrics: Metrics): UserContext {
  return new Proxy(ctx, {
    get(t, p) {
      if (p === "metrics") return metrics;
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
    set: (t, p, v) => Reflect.set(t, p, v, t),
  });
}

/** One scenario module that runs `parts` by weight. */
export function mixedScenario(name: string, mix: MixWeights, parts: LoadedScenario[]): LoadedScenario {
  const round = mixRound(mix);
  const byName = new Map(parts.map((p) => [p.name, p]));
  const variables: VariableDecls = {};
  // the variables of every part (the first declaration of a shared name wins)
  for (const p of parts) for (const [k, d] of Object.entries(p.variables)) if (!(k in variables)) variables[k] = d;
  const metricsFor = new Map<string, Metrics>();
  const module: ScenarioModule<Record<string, unknown>> = {
    variables,
    async init(ctx: InitContext) {
      const states: Record<string, unknown> = {};
      for (const p of parts) {
        metricsFor.set(p.name, taggedMetrics(ctx.metrics, p.name));
        if (p.module.init)
          states[p.name] = await p.module.init({
            ...ctx,
            scenario: p.name,
            log: ctx.log.child({ scenario: p.name }),
            metrics: metricsFor.get(p.name)!,
            sleep: ctx.sleep,
          });
      }
      return states;
    },
    async start(id, states, ctx) {
      const sc = scenarioOf(round, id);
      const p = byName.get(sc)!;
      let m = metricsFor.get(sc);
      if (!m) metricsFor.set(sc, (m = taggedMetrics(ctx.metrics, sc)));
      try {
        await p.module.start(id, states?.[sc], tagged(ctx, m));
      } catch (e) {
        // the crash is counted under the scenario it happened in
        ctx.phase = `${sc}/${ctx.phase}`;
        throw e;
      }
    },
    async terminate(states) {
      for (const p of parts) if (p.module.terminate) await p.module.terminate(states?.[p.name]);
    },
  };
  return { name, file: parts[0]?.file ?? name, module: module as ScenarioModule, variables };
}
