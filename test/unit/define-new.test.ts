import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { newCommand } from "../../src/api/commands/new.js";
import { UsageError } from "../../src/errors.js";
import { loadScenario } from "../../src/scenario/loader.js";

// inside the checkout, where `amoc-ts` resolves for vitest (bin/amoc resolves it anywhere)
const dir = mkdtempSync(join(new URL("../..", import.meta.url).pathname, "test", ".tmp-new-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("amoc new", () => {
  it("writes NAME.ts with a defineScenario starter that loads with its variables", async () => {
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      expect(await newCommand(["my_chat"], dir)).toBe(0);
    } finally {
      out.mockRestore();
    }
    const src = readFileSync(join(dir, "my_chat.ts"), "utf8");
    expect(src).toContain("export default defineScenario({");
    expect(src).toContain('ctx.metrics.count("my_chat.chats")');
    const s = await loadScenario(join(dir, "my_chat.ts"), dir);
    expect(Object.keys(s.variables)).toEqual(["ping_count", "message_count", "pause_ms"]);
    expect(typeof s.module.init).toBe("function");
  });

  it("refuses to overwrite a file and refuses names that are not names", async () => {
    await expect(newCommand(["my_chat"], dir)).rejects.toThrow(/already exists/);
    await expect(newCommand(["../evil"], dir)).rejects.toBeInstanceOf(UsageError);
    await expect(newCommand([], dir)).rejects.toThrow(/needs a NAME/);
  });
});
