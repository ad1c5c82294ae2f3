import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  checkUpload,
  compileProblems,
  loadProblems,
  UploadError,
  UPLOAD_LOAD_TIMEOUT_MS,
} from "../../src/scenario/upload-check.js";

const GOOD = `import { defineVariables } from "amoc-ts";
export const variables = defineVariables({ rounds: { default: 2, doc: "rounds per user" } });
export async function start(): Promise<void> {}
`;

let dir: string;
beforeEach(() => {
  // outside the checkout on purpose: the check's child resolves `amoc-ts` through the resolve hook, as bin/amoc does
  dir = mkdtempSync(join(tmpdir(), "amoc-upload-check-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("the upload check loads an upload in a child process", () => {
  it("a good upload passes and gets its version", async () => {
    expect(await checkUpload("up_good", GOOD, join(dir, "work"))).toMatch(/^[0-9a-f]{16}$/);
  });

  it("a top-level infinite loop is refused within the limit while this process keeps running", async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    try {
      const t0 = performance.now();
      const err = await checkUpload("up_loop", `${GOOD}while (true) {}\n`, join(dir, "work"), {
        timeoutMs: 2000,
      }).catch((e: unknown) => e);
      const took = performance.now() - t0;
      expect(err).toBeInstanceOf(UploadError);
      expect((err as UploadError).problems[0]?.message).toBe(
        "the scenario did not finish loading within 2 s: a top-level loop or a wait?",
      );
      expect(took).toBeGreaterThanOrEqual(1900);
      expect(took).toBeLessThan(6000);
      // the loop ran in the child: this event loop kept turning during the whole check
      expect(ticks).toBeGreaterThan(20);
    } finally {
      clearInterval(ticker);
    }
  });

  it("the default limit is 10 s and says so", () => {
    expect(UPLOAD_LOAD_TIMEOUT_MS).toBe(10_000);
  });

  it("a top-level await that never settles is refused the same way", async () => {
    const problems = await loadProblems(
      "up_wait",
      `${GOOD}await new Promise(() => setInterval(() => {}, 1000));\n`,
      join(dir, "work"),
      { timeoutMs: 1500 },
    );
    expect(problems).toEqual([
      {
        file: "up_wait.ts",
        line: 0,
        column: 0,
        message: expect.stringContaining("did not finish loading within 1.5 s"),
      },
    ]);
  });

  it("an upload that ends the process at its top level is refused with the exit code", async () => {
    const problems = await loadProblems(
      "up_exit",
      `${GOOD}console.error("bye from the top level"); process.exit(3);\n`,
      join(dir, "work"),
    );
    expect(problems[0]?.message).toMatch(/exit code 3.*bye from the top level/s);
  });

  it("a throwing top level is reported with its place, as before", async () => {
    const problems = await loadProblems("up_throw", `${GOOD}\nthrow new Error("boom");\n`, join(dir, "work"));
    expect(problems[0]).toMatchObject({
      file: "up_throw.ts",
      line: 5,
      message: expect.stringContaining("loading failed: boom"),
    });
  });

  it("leaves a timer-holding upload's check finished (the child exits on its own after answering)", async () => {
    expect(await loadProblems("up_timer", `${GOOD}setInterval(() => {}, 1000);\n`, join(dir, "work"))).toEqual([]);
  });

  it("runs the upload's top-level code in the child, not here: a refused upload may still have written its marker", async () => {
    // Loading is running: the check executes the top level (in the child, with the node's rights). This test pins
    // that down plainly rather than pretending the check contains it; refusing uploads is api_uploads=off.
    const marker = join(dir, "marker");
    const src = `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, String(process.pid));\nexport const start = 1;\n`;
    const err = await checkUpload("up_marker", src, join(dir, "work")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UploadError);
    expect(existsSync(marker)).toBe(true);
    expect(Number(readFileSync(marker, "utf8"))).not.toBe(process.pid);
  });
});

describe("the import rule says it is hygiene, not a sandbox", () => {
  it("a relative import is refused with a message that says uploads run with the node's rights", async () => {
    const [p] = await compileProblems("up_rel", `import "./other.js";\nexport async function start() {}\n`);
    expect(p?.message).toMatch(/not allowed.*only 'amoc-ts', 'amoc-ts\/xmpp', 'amoc-ts\/xmppjs' and Node built-ins/);
    expect(p?.message).toMatch(/it is not a sandbox: an uploaded scenario runs with the node's rights/);
  });

  it("an unknown package is refused with the same reason", async () => {
    const [p] = await compileProblems("up_pkg", `import "left-pad-nope";\nexport async function start() {}\n`);
    expect(p?.message).toMatch(/'left-pad-nope' does not resolve: .*not a sandbox/);
  });
});
