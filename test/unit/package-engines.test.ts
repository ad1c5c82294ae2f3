/**
 * Every package the lockfile installs supports the Node version package.json promises (>=20.19): a newer minimum
 * prints `npm warn EBADENGINE` on every `npm ci` and may use APIs Node 20 lacks.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const NODE_20 = [20, 19, 0] as const;

function parse(v: string): number[] {
  return v
    .replace(/^v/, "")
    .split(".")
    .map((p) => (/^\d+$/.test(p) ? Number(p) : 0));
}

function cmp(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** Whether `version` satisfies one comparator (`>=22`, `^20.19.0`, `20`, `20.x`, `<24`, `*`). */
function satisfiesOne(version: readonly number[], c: string): boolean {
  const m = /^(>=|<=|>|<|\^|~|=)?\s*v?([\dx*.]+)$/.exec(c.trim());
  if (!m) throw new Error(`unsupported engines comparator '${c}'`);
  const op = m[1] ?? "";
  const raw = m[2] as string;
  if (raw === "*" || raw === "x") return true;
  const v = parse(raw);
  const parts = raw.split(".").filter((p) => /^\d+$/.test(p)).length;
  if (op === "" || op === "=") {
    // a partial version (20, 20.x) matches its whole major or minor
    return [0, 1, 2].slice(0, parts).every((i) => version[i] === v[i]);
  }
  if (op === ">=") return cmp(version, v) >= 0;
  if (op === ">") return cmp(version, v) > 0;
  if (op === "<") return cmp(version, v) < 0;
  if (op === "<=") return cmp(version, v) <= 0;
  if (op === "^") return version[0] === v[0] && cmp(version, v) >= 0;
  return version[0] === v[0] && version[1] === v[1] && cmp(version, v) >= 0;
}

/** Whether `version` satisfies an engines range (`||` of space-separated comparators). */
export function nodeSatisfies(version: readonly number[], range: string): boolean {
  return range.split("||").some((alt) =>
    alt
      .trim()
      .replace(/(>=|<=|>|<|\^|~|=)\s+/g, "$1")
      .split(/\s+/)
      .filter(Boolean)
      .every((c) => satisfiesOne(version, c)),
  );
}

describe("the installed packages run on Node 20", () => {
  it("reads engines ranges as npm does", () => {
    expect(nodeSatisfies(NODE_20, ">=22.19.0")).toBe(false);
    expect(nodeSatisfies(NODE_20, ">=22")).toBe(false);
    expect(nodeSatisfies(NODE_20, "^20.19.0 || >=22.12.0")).toBe(true);
    expect(nodeSatisfies(NODE_20, "18 || 20 || >=22")).toBe(true);
    expect(nodeSatisfies(NODE_20, "^18.18.0 || ^20.9.0 || >=21.1.0")).toBe(true);
    expect(nodeSatisfies(NODE_20, ">=20")).toBe(true);
  });

  it("installs no package whose engines exclude Node 20.19 (npm ci prints no EBADENGINE)", () => {
    const lock = JSON.parse(readFileSync(new URL("../../package-lock.json", import.meta.url), "utf8")) as {
      packages: Record<string, { version?: string; optional?: boolean; engines?: { node?: string } | string[] }>;
    };
    const excluded = Object.entries(lock.packages)
      .filter(([name, p]) => name !== "" && !p.optional)
      .filter(([, p]) => !Array.isArray(p.engines) && typeof p.engines?.node === "string")
      .filter(([, p]) => !nodeSatisfies(NODE_20, (p.engines as { node: string }).node))
      .map(([name, p]) => `${name}@${p.version ?? "?"} (${(p.engines as { node: string }).node})`);
    expect(excluded).toEqual([]);
  });
});
