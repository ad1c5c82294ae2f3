import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  defineScenario,
  duration,
  nonNegative,
  oneOf,
  positiveInt,
  type InitContext,
  type UserContext,
} from "../../src/scenario/api.js";
import { listScenarios, loadScenario } from "../../src/scenario/loader.js";
import { loadProblems } from "../../src/scenario/upload-check.js";

const SCENARIOS = new URL("../../scenarios", import.meta.url).pathname;
const FIXTURES = new URL("../fixtures/scenarios", import.meta.url).pathname;

describe("defineScenario", () => {
  it("types the state from init's return and ctx.vars from the declared defaults, widened", () => {
    const s = defineScenario({
      variables: {
        count: { default: 5, doc: "n", verify: positiveInt },
        mode: { default: "tcp", doc: "m", verify: oneOf("tcp", "ws") },
        on: { default: true, doc: "b" },
      },
      init(ctx) {
        expectTypeOf(ctx).toMatchTypeOf<InitContext>();
        expectTypeOf(ctx.vars.count).toEqualTypeOf<number>();
        return { startedAt: 1, rooms: ["a"] };
      },
      start(_id, state, ctx) {
        expectTypeOf(state).toEqualTypeOf<{ startedAt: number; rooms: string[] }>();
        expectTypeOf(ctx.vars.mode).toEqualTypeOf<string>();
        expectTypeOf(ctx.vars.on).toEqualTypeOf<boolean>();
        expectTypeOf(ctx).toMatchTypeOf<UserContext>();
      },
      terminate(state) {
        expectTypeOf(state.startedAt).toEqualTypeOf<number>();
      },
    });
    expect(typeof s.start).toBe("function");
    expect(Object.keys(s.variables ?? {})).toEqual(["count", "mode", "on"]);
  });

  it("gives an undefined state and no variables when init and variables are left out", () => {
    const s = defineScenario({
      start(_id, state, ctx) {
        expectTypeOf(state).toEqualTypeOf<undefined>();
        expectTypeOf(ctx.vars).toEqualTypeOf<{ readonly [K in never]: never }>();
      },
    });
    expect(s.init).toBeUndefined();
  });

  it("is loaded from a default export, with its variables, like a module of named exports", async () => {
    const dummy = await loadScenario("dummy", SCENARIOS);
    expect(typeof dummy.module.start).toBe("function");
    expect(Object.keys(dummy.variables)).toEqual(["dummy_sleep_ms"]);
    const old = await loadScenario(`${FIXTURES}/lifecycle.ts`, SCENARIOS);
    expect(typeof old.module.start).toBe("function");
  });

  it("every built-in scenario loads and keeps its variable names", async () => {
    const names = listScenarios(SCENARIOS);
    expect(names).toEqual(
      expect.arrayContaining(["bench_chat", "dummy", "idle", "login_storm", "muc", "one_to_one", "register"]),
    );
    const vars: Record<string, string[]> = {};
    for (const n of names) vars[n] = Object.keys((await loadScenario(n, SCENARIOS)).variables);
    expect(vars).toMatchObject({
      bench_chat: ["chat_count", "chat_interval", "hold_ms", "peer", "warmup_ms"],
      idle: [],
      login_storm: ["hold_ms"],
      muc: [
        "room_size",
        "muc_service",
        "message_count",
        "message_interval",
        "join_timeout",
        "receive_timeout",
        "linger_ms",
        "meet_by",
      ],
      one_to_one: ["message_count", "message_interval", "neighbour_timeout", "receive_timeout", "linger_ms", "meet_by"],
      register: ["user_template", "password_template"],
    });
  });

  it("an uploaded scenario written with defineScenario passes the upload check", async () => {
    const src = `import { defineScenario, positiveInt } from "amoc-ts";\nexport default defineScenario({ variables: { n: { default: 1, doc: "n", verify: positiveInt } }, async start() {} });\n`;
    // inside the checkout, where `amoc-ts` resolves to it (as in a node's data directory under the repo)
    const dir = mkdtempSync(join(new URL("../..", import.meta.url).pathname, "test", ".tmp-define-"));
    try {
      expect(await loadProblems("up_defined", src, dir)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("stock verifiers", () => {
  it("positiveInt accepts integers from 1 and names what it wants otherwise", () => {
    expect(positiveInt(1)).toBe(true);
    expect(positiveInt(0)).toMatch(/integer >= 1/);
    expect(positiveInt(1.5)).toMatch(/integer/);
    expect(positiveInt(Infinity)).not.toBe(true);
  });

  it("nonNegative accepts 0 and fractions, not negatives or infinity", () => {
    expect(nonNegative(0)).toBe(true);
    expect(nonNegative(0.5)).toBe(true);
    expect(nonNegative(-1)).toMatch(/>= 0/);
    expect(nonNegative(Infinity)).not.toBe(true);
  });

  it("oneOf lists the allowed values in its reason", () => {
    const v = oneOf("tcp", "tls");
    expect(v("tcp")).toBe(true);
    expect(v("ws")).toBe('must be one of "tcp", "tls"');
  });

  it("duration accepts ms up to a day", () => {
    expect(duration(0)).toBe(true);
    expect(duration(60_000)).toBe(true);
    expect(duration(-5)).toMatch(/duration/);
    expect(duration(86_400_001)).toMatch(/a day/);
  });
});
