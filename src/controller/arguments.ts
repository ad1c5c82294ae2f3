/** Checks of the arguments of controller commands (they come from the console, REST and scenarios untyped). */
import { isSettingKey } from "../config/schema.js";
import { AmocError, StateError, UsageError } from "../errors.js";

/** Throws unless `from..to` is a range of user IDs (positive integers, `to` not below `from`). */
export function checkUserRange(from: unknown, to: unknown): void {
  checkUserId(from, "from");
  checkUserId(to, "to");
  if ((to as number) < (from as number))
    throw new UsageError(`'to' (${to}) is below 'from' (${from})`, "give a range like do('dummy', 1, 10)");
}

/** Throws unless `n`, the argument of command `what` (add, remove), is a positive integer. */
export function checkCount(n: number, what: string, example: string): void {
  if (!Number.isSafeInteger(n) || n < 1)
    throw new UsageError(`${what} needs a positive integer, got ${JSON.stringify(n)}`, example);
}

/** Throws unless a scenario name is a string. */
export function checkScenarioName(name: unknown): void {
  if (typeof name !== "string") throw new UsageError("the scenario name must be a string", "e.g. do('dummy', 1, 10)");
}

/** Throws unless `settings` is a plain object (`hint` shows one). */
export function checkSettingsObject(settings: unknown, hint: string): asserts settings is Record<string, unknown> {
  if (typeof settings !== "object" || settings === null || Array.isArray(settings))
    throw new UsageError("settings must be an object", hint);
}

function checkUserId(v: unknown, what: string): void {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) {
    throw new UsageError(
      `${what} must be a positive integer, got ${JSON.stringify(v)}`,
      "user IDs are integers from 1",
    );
  }
}

/** Node settings are fixed for a run: only scenario variables change live. */
export function checkNoNodeSettings(update: Record<string, unknown>): void {
  for (const k of Object.keys(update)) {
    if (isSettingKey(k))
      throw new AmocError(
        "VARIABLE_READ_ONLY",
        `'${k}' is a node setting and cannot change during a run`,
        "stop the run and start a new one with the new value",
      );
  }
}

/** Why a command that needs a running run cannot act in `state`, and what to do. */
export function notRunning(what: string, state: string): StateError {
  const hint =
    state === "idle" || state === "finished"
      ? "start a run first: amoc_local.do('dummy', 1, 10)"
      : state === "error"
        ? "fix the error shown by status(), then do(...) again"
        : "wait until the run has stopped";
  return new StateError(`cannot ${what}: the node is ${state}`, hint);
}
