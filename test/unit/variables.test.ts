import { describe, expect, it } from "vitest";
import { checkDeclarations, checkUpdate, defineVariables, resolveVariables } from "../../src/config/variables.js";

const decls = defineVariables({
  message_count: { default: 10, doc: "messages per user", verify: (v: number) => Number.isInteger(v) && v > 0 },
  room: { default: "lobby", doc: "room name" },
  verbose: { default: false, doc: "talk more", updatable: true },
});

const base = { settings: {}, env: {}, file: {}, scenarioFile: "s.ts" };

describe("scenario variables", () => {
  it("take run settings over env over the config file over the default", () => {
    expect(resolveVariables(decls, base).message_count).toBe(10);
    expect(resolveVariables(decls, { ...base, file: { message_count: 4 } }).message_count).toBe(4);
    expect(
      resolveVariables(decls, { ...base, file: { message_count: 4 }, env: { AMOC_MESSAGE_COUNT: "5" } }).message_count,
    ).toBe(5);
    expect(
      resolveVariables(decls, { ...base, env: { AMOC_MESSAGE_COUNT: "5" }, settings: { message_count: 6 } })
        .message_count,
    ).toBe(6);
  });

  it("parse strings into the type of the default", () => {
    const v = resolveVariables(decls, { ...base, settings: { message_count: "3", verbose: "1", room: "x" } });
    expect(v).toEqual({ message_count: 3, room: "x", verbose: true });
  });

  it("reject a value failing verify, naming the variable, its source and the file", () => {
    expect(() => resolveVariables(decls, { ...base, env: { AMOC_MESSAGE_COUNT: "0" } })).toThrow(
      /AMOC_MESSAGE_COUNT: variable 'message_count' failed verification.*s\.ts|s\.ts[\s\S]*AMOC_MESSAGE_COUNT: variable 'message_count' failed verification/,
    );
  });

  it("reject an undeclared setting, naming the file and the variable", () => {
    expect(() => resolveVariables(decls, { ...base, settings: { mesage_count: 1 } })).toThrow(
      /'mesage_count' is not declared by s\.ts/,
    );
  });

  it("allow live updates of updatable variables only", () => {
    expect(checkUpdate(decls, { verbose: "true" }, "s.ts")).toEqual({ verbose: true });
    expect(() => checkUpdate(decls, { room: "y" }, "s.ts")).toThrow(/read-only/);
  });

  it("refuse declarations without a doc or clashing with a node setting", () => {
    expect(() => checkDeclarations({ x: { default: 1 } }, "f.ts")).toThrow(/needs a 'default' and a 'doc'/);
    expect(() => checkDeclarations({ interarrival: { default: 1, doc: "d" } }, "f.ts")).toThrow(
      /clashes with the node setting/,
    );
  });
});
