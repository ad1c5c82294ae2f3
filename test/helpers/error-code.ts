/** The code of the typed error a promise rejects with. */
import { expect } from "vitest";
import { AmocError } from "../../src/errors.js";

/** The code of the AmocError `p` rejects with; fails the test when `p` resolves or rejects with anything else. */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AmocError);
    return (e as AmocError).code;
  }
  throw new Error("expected an AmocError");
}
