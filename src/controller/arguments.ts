/** Checks of the arguments of controller commands (they come from the console, REST and scenarios untyped). */
import { UsageError } from "../errors.js";

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
