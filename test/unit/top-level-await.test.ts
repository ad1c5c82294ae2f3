import vm from "node:vm";
import { describe, expect, it } from "vitest";
import { evalWithAwait, isIncomplete, splitStatements, wrapAwait } from "../../src/api/console/top-level-await.js";

function context(): vm.Context {
  return vm.createContext({ f: async (x: number) => x * 2 });
}

describe("console top-level await", () => {
  it("returns the value of the last expression of a line with await", async () => {
    const ctx = context();
    expect(await evalWithAwait("await f(21)", ctx)).toBe(42);
    expect(await evalWithAwait("const a = await f(1); a + 1", ctx)).toBe(3);
  });

  it("keeps const, let, destructuring, functions and classes visible to later lines", async () => {
    const ctx = context();
    await evalWithAwait("const x = await f(2)", ctx);
    await evalWithAwait("let {y, z: [w]} = await Promise.resolve({y: 5, z: [6]})", ctx);
    await evalWithAwait("async function g() { return await f(3) }", ctx);
    await evalWithAwait("class K { v = 1 }; await f(0)", ctx);
    expect(evalWithAwait("x + y + w", ctx)).toBe(4 + 5 + 6);
    expect(await evalWithAwait("await g()", ctx)).toBe(6);
    expect(evalWithAwait("new K().v", ctx)).toBe(1);
  });

  it("leaves lines without await to the plain script path", () => {
    const ctx = context();
    expect(evalWithAwait("var q = 7; q * 2", ctx)).toBe(14);
    expect(evalWithAwait("const awaitless = 1; awaitless", ctx)).toBe(1);
  });

  it("reports an unfinished line as incomplete so the REPL reads on", () => {
    const ctx = context();
    let err: unknown;
    try {
      evalWithAwait("const r = await f(", ctx);
    } catch (e) {
      err = e;
    }
    expect(isIncomplete(err)).toBe(true);
  });

  it("rejects with the error of the awaited code", async () => {
    await expect(
      evalWithAwait("await Promise.reject(new Error('boom'))", context()) as Promise<unknown>,
    ).rejects.toThrow("boom");
  });

  it("splits statements at top-level semicolons and line ends, not inside strings, templates or brackets", () => {
    expect(splitStatements("a; b")).toEqual(["a", "b"]);
    expect(splitStatements("f(1,\n2); 'x;y'; `t;${g(';')}`")).toEqual(["f(1,\n2)", "'x;y'", "`t;${g(';')}`"]);
    expect(splitStatements("a\n.b()\nc")).toEqual(["a\n.b()", "c"]);
    expect(splitStatements("if (x) { y; z }\nw // c;d")).toEqual(["if (x) { y; z }", "w"]);
  });

  it("does not return a block statement as a value", () => {
    expect(wrapAwait("for (;;) await f(1)")).not.toMatch(/return \(for/);
  });
});
