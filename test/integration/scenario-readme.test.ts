/**
 * The README's scenario examples really run: every ```ts block of README.md is a file (its first line names it),
 * written into a temp dir outside the package and run by path against Prosody, as a newcomer would.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { prosodyUrl } from "../helpers/endpoints.js";
import { amoc } from "../helpers/proc.js";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
const blocks = [...README.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
const files = blocks.map((code) => ({ name: /^\/\/ file: (\S+\.ts)\n/.exec(code)?.[1], code }));
const dir = mkdtempSync(join(tmpdir(), "amoc-readme-"));
for (const f of files) if (f.name) writeFileSync(join(dir, f.name), f.code);

interface Summary {
  users: { started: number; finished: number; crashed: number };
  metrics: Record<string, { count?: number; p50?: number }>;
  errors: unknown[];
}

async function runByPath(name: string, args: string[]): Promise<{ code: number | null; s: Summary; stderr: string }> {
  const r = await amoc(
    ["run", join(dir, name), "--users", "10", "--interarrival", "10", "--repeat", "1", ...args, "--json"],
    {
      env: { AMOC_XMPP_SERVERS: prosodyUrl() },
      timeoutMs: 120_000,
    },
  );
  if (!r.stdout.trim()) throw new Error(`no summary; exit ${r.code}; stderr: ${r.stderr}`);
  return { code: r.code, s: JSON.parse(r.stdout) as Summary, stderr: r.stderr };
}

describe("README scenario examples", () => {
  it("every TypeScript snippet of the README is a whole scenario file named on its first line", () => {
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) expect(f.name, `snippet without '// file: NAME.ts':\n${f.code.slice(0, 200)}`).toBeDefined();
    expect(files.map((f) => f.name)).toEqual(expect.arrayContaining(["hello.ts", "ping.ts"]));
  });

  it("the first example runs by path from a temp dir, importing amoc-ts, with its metric recorded", async () => {
    const { code, s, stderr } = await runByPath("hello.ts", ["--set", "message_count=3", "--set", "pause_ms=10"]);
    expect(s.errors, stderr).toEqual([]);
    expect(code).toBe(0);
    expect(s.users).toMatchObject({ started: 10, finished: 10, crashed: 0 });
    expect(s.metrics["hello.echo"]?.count).toBe(30);
    expect(s.metrics["hello.echoes"]?.count).toBe(30);
  });

  it("the ping example (XEP-0199) runs by path and times every round trip", async () => {
    const { code, s, stderr } = await runByPath("ping.ts", ["--set", "pings=3"]);
    expect(s.errors, stderr).toEqual([]);
    expect(code).toBe(0);
    expect(s.metrics["ping.rtt"]?.count).toBe(30);
  });

  it("any other scenario written into a temp dir runs by path, its relative imports resolved", async () => {
    writeFileSync(join(dir, "helper.ts"), `export const greeting: string = "hi";\n`);
    writeFileSync(
      join(dir, "plain.ts"),
      `import { defineVariables, type UserContext } from "amoc-ts";\nimport { greeting } from "./helper.js";\n` +
        `export const variables = defineVariables({ word: { default: greeting, doc: "a word" } });\n` +
        `export async function start(_id: number, _s: unknown, ctx: UserContext): Promise<void> { ctx.metrics.count("plain." + String(ctx.vars.word)); }\n`,
    );
    const { code, s } = await runByPath("plain.ts", []);
    expect(code).toBe(0);
    expect(s.metrics["plain.hi"]?.count).toBe(10);
  });
});
