import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { describeImportFailure } from "../../src/scenario/import-failure.js";
import { loadScenario } from "../../src/scenario/loader.js";
import { resolvePackageEntry } from "../../src/scenario/package-entries.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const run = promisify(execFile);

function scenarioSource(version: number): string {
  return `export const version = ${version};\nexport async function start(): Promise<void> {}\n`;
}

/** Runs `code` (an ES module body) in a fresh Node with the same hooks as bin/amoc; resolves with its stdout. */
async function inNode(code: string, cwd: string): Promise<string> {
  const driver = join(cwd, "driver.mts");
  writeFileSync(driver, code);
  const { stdout } = await run(
    process.execPath,
    [
      "--import",
      join(ROOT, "node_modules/tsx/dist/loader.mjs"),
      "--import",
      join(ROOT, "src/scenario/register-hooks.ts"),
      driver,
    ],
    {
      cwd,
      timeout: 60_000,
    },
  );
  return stdout.trim();
}

describe("scenario loader", () => {
  it("loads an edited scenario file again, and the same content as the same module", async () => {
    const dir = mkdtempSync(join(tmpdir(), "amoc-loader-"));
    const file = join(dir, "edited.ts");
    writeFileSync(file, scenarioSource(1));
    const first = await loadScenario(file, dir);
    expect((first.module as unknown as { version: number }).version).toBe(1);
    writeFileSync(file, scenarioSource(2));
    const second = await loadScenario(file, dir);
    expect((second.module as unknown as { version: number }).version).toBe(2);
    writeFileSync(file, scenarioSource(1));
    const third = await loadScenario(file, dir);
    expect(third.module).toBe(first.module);
  });

  it("under Node and tsx, an edited scenario in a directory without package.json runs its new code, its relative imports and amoc-ts resolving", async () => {
    const dir = mkdtempSync(join(tmpdir(), "amoc-loader-node-"));
    writeFileSync(join(dir, "helper.ts"), `export const greeting: string = "hello";\n`);
    const scenario = (v: number) =>
      `import { defineVariables } from "amoc-ts";\nimport { xml } from "amoc-ts/xmpp";\nimport { greeting } from "./helper.js";\n` +
      `export const variables = defineVariables({ n: { default: ${v}, doc: "version" } });\n` +
      `export const label: string = greeting + " v${v} " + xml("a").toString();\nexport async function start(): Promise<void> {}\n`;
    writeFileSync(join(dir, "s.ts"), scenario(1));
    const out = await inNode(
      `import { writeFileSync } from "node:fs";\n` +
        `import { loadScenario } from ${JSON.stringify(join(ROOT, "src/scenario/loader.ts"))};\n` +
        `const a = await loadScenario("./s.ts", ".");\n` +
        `writeFileSync("s.ts", ${JSON.stringify(scenario(2))});\n` +
        `const b = await loadScenario("./s.ts", ".");\n` +
        `console.log(JSON.stringify([a.module.label, a.variables.n.default, b.module.label, b.variables.n.default]));\n`,
      dir,
    );
    expect(JSON.parse(out.split("\n").at(-1) as string)).toEqual(["hello v1 <a/>", 1, "hello v2 <a/>", 2]);
  });

  it("under Node, a scenario importing a package that is not installed names the import and does not blame the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "amoc-loader-pkg-"));
    writeFileSync(
      join(dir, "needs.ts"),
      `import pad from "left-pad-not-installed";\nexport async function start(): Promise<void> { pad(); }\n`,
    );
    const out = await inNode(
      `import { loadScenario } from ${JSON.stringify(join(ROOT, "src/scenario/loader.ts"))};\n` +
        `try { await loadScenario("./needs.ts", "."); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message, hint: e.hint })); }\n`,
      dir,
    );
    const err = JSON.parse(out.split("\n").at(-1) as string) as { code: string; message: string; hint: string };
    expect(err.code).toBe("SCENARIO_INVALID");
    expect(err.message).toMatch(/needs\.ts imports 'left-pad-not-installed', which cannot be resolved/);
    expect(err.hint).toMatch(/npm install left-pad-not-installed/);
    expect(err.hint).not.toMatch(/fix the error in the scenario file/);
  });

  it("maps amoc-ts, amoc-ts/xmpp and amoc-ts/xmppjs to the project's entries, and names the entries for others", () => {
    expect(resolvePackageEntry("amoc-ts")).toBe(new URL("../../src/scenario/api.ts", import.meta.url).href);
    expect(resolvePackageEntry("amoc-ts/xmpp")).toBe(new URL("../../src/xmpp/index.ts", import.meta.url).href);
    expect(resolvePackageEntry("amoc-tsx")).toBeUndefined();
    expect(resolvePackageEntry("amoc-ts/xmppjs")).toBe(new URL("../../src/xmppjs/index.ts", import.meta.url).href);
    expect(() => resolvePackageEntry("amoc-ts/internal")).toThrow(
      /not an entry of amoc-ts \(entries: amoc-ts, amoc-ts\/xmpp, amoc-ts\/xmppjs\)/,
    );
  });

  it.each([
    [
      "a missing package",
      Object.assign(new Error("Cannot find package 'ws2' imported from /s/a.ts"), { code: "ERR_MODULE_NOT_FOUND" }),
      /\/s\/a\.ts imports 'ws2'/,
      /npm install ws2/,
    ],
    [
      "a missing relative file",
      Object.assign(new Error("Cannot find module '/s/helper.js' imported from /s/a.ts"), {
        code: "ERR_MODULE_NOT_FOUND",
      }),
      /imports '\/s\/helper\.js', which does not exist/,
      /path of that import/,
    ],
    [
      "a syntax error",
      new Error('Transform failed with 1 error:\n/s/a.ts:1:25: ERROR: Unexpected ";"'),
      /Unexpected/,
      /syntax error/,
    ],
    [
      "a missing export",
      new SyntaxError("The requested module 'amoc-ts' does not provide an export named 'nope'"),
      /does not provide an export named 'nope'/,
      /import only names the module exports/,
    ],
    ["a throw at top level", new Error("boom"), /top-level code threw: boom/, /top-level code/],
  ])("explains %s", (_what, e, message, hint) => {
    const d = describeImportFailure(e, "/s/a.ts");
    expect(d.message).toMatch(message);
    expect(d.hint).toMatch(hint);
  });
});
