/**
 * `defineScenario`: a scenario as one typed object. The state type comes from what `init` returns and `ctx.vars`
 * from the declared variables (their defaults' types, widened: `default: 5` makes a `number`), so a scenario writes
 * no types of its own. The result is the scenario module itself: `export default defineScenario({...})`.
 */
import type { VariableDecls } from "../config/variables.js";
import type { InitContext, ScenarioModule, UserContext } from "./api.js";

/** A default's type as a variable's value: literals widened (`5` -> number, `"a"` -> string), arrays made mutable. */
export type Widen<T> = T extends string
  ? string
  : T extends number
    ? number
    : T extends boolean
      ? boolean
      : T extends readonly (infer E)[]
        ? Widen<E>[]
        : T;

/** The typed values of declared variables, as `ctx.vars` holds them. */
export type VarsOf<V extends VariableDecls> = { readonly [K in keyof V]: Widen<V[K]["default"]> };

/** What `defineScenario` takes: `start` is required; `init` runs once per node and its result is `start`'s state. */
export interface ScenarioDefinition<V extends VariableDecls, S> {
  /** Declared variables: `{ name: { default, doc, verify?, updatable? } }`. */
  variables?: V;
  /** Once per node, before any user starts; what it returns is every user's `state`. */
  init?: (ctx: InitContext<VarsOf<V>>) => Promise<S> | S;
  /** Once per run of each user (`repeat_num` runs in all). */
  start: (id: number, state: S, ctx: UserContext<VarsOf<V>>) => Promise<void> | void;
  /** After the last user of the run. */
  terminate?: (state: S) => Promise<void> | void;
}

/** A scenario module built by `defineScenario`: what the loader takes from a default export. */
export type DefinedScenario<V extends VariableDecls, S> = ScenarioModule<S, V> & { readonly defined: true };

/**
 * Declares a scenario: `export default defineScenario({ variables, init, start, terminate })`. Write `init` before
 * `start` so TypeScript infers the state from it.
 */
export function defineScenario<const V extends VariableDecls = Record<never, never>, S = undefined>(
  def: ScenarioDefinition<V, S>,
): DefinedScenario<V, S> {
  return { ...def, defined: true } as unknown as DefinedScenario<V, S>;
}

/** True for a default export made by `defineScenario` (or any object with a `start` function). */
export function isScenarioObject(x: unknown): x is ScenarioModule {
  return typeof x === "object" && x !== null && typeof (x as { start?: unknown }).start === "function";
}
